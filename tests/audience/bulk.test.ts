import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import { failOnWarnings } from '../helpers.js';
import { importFile } from '../../src/audience/import.js';
import { openStore } from '../../src/audience/open.js';
import type { SqlStore } from '../../src/audience/sql/store.js';
import type { SubscriberStore } from '../../src/audience/store.js';
import { PG_URL, onEachImportStore, pgUnavailable, tempDir, withSchema } from './databases.js';

async function file(name: string, text: string): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, text);
  return path;
}

const csvCell = (value: string) => `"${value.replace(/"/g, '""')}"`;

// An import's copies, and the queries after a failed one, take their turns on the connection themselves.
failOnWarnings();

onEachImportStore((target) => {
  const open: SubscriberStore[] = [];
  const fresh = async (url?: string) => {
    const store = await openStore(url ?? (await target.fresh()), { create: true, ...target.options });
    open.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });

  describe('bulk import', () => {
    test('tabs, backslashes, quotes, line breaks and \\N in values survive the bulk write, new and updated', async () => {
      const store = await fresh();
      const name = 'Ann\t"the \\N" O\\Brien\r\nsecond line';
      const list = await file('a.csv', `email,name,city\nann@example.com,${csvCell(name)},${csvCell('a\\b\tc')}\n`);
      expect(await importFile(store, list)).toMatchObject({ imported: 1, rejected: [] });
      expect(await store.get('ann@example.com')).toMatchObject({ name, attributes: { city: 'a\\b\tc' } });
      const renamed = `${name}\\ again\t!`;
      const again = await file('b.csv', `email,name\nANN@example.com,${csvCell(renamed)}\n`);
      expect(await importFile(store, again)).toMatchObject({ updated: 1 });
      expect((await store.get('ann@example.com'))!.name).toBe(renamed);
    });

    test('quotes in the values many rows share (consent, withdrawal, attributes) survive the bulk write', async () => {
      const store = await fresh();
      const header = 'email,name,status,tags,attributes,consent_source,consent_at,withdrawn_at,withdrawn_how';
      const rows = ['a', 'b', 'c'].map((who) => `${who}@example.com,${who},unsubscribed,,"{""note"":""it's""}",O'Reilly's form,2024-01-02T03:04:05.000Z,2024-02-03T04:05:06.000Z,said 'stop'`);
      const list = await file('quotes.csv', `${header}\n${rows.join('\n')}\n`);
      expect(await importFile(store, list)).toMatchObject({ format: 'digest', imported: 3, rejected: [] });
      for (const who of ['a', 'b', 'c']) {
        expect(await store.get(`${who}@example.com`)).toMatchObject({
          status: 'unsubscribed',
          attributes: { note: "it's" },
          consentSource: "O'Reilly's form",
          withdrawnHow: "said 'stop'",
        });
      }
    });

    test('an import larger than a batch and its slices keeps every row once and merges duplicates across slices and batches', async () => {
      const store = await fresh();
      const rows = ['email,name'];
      for (let i = 0; i < 4500; i++) rows.push(`reader${i}@example.com,Reader ${i}`);
      // The same people again, later in the file and in other slices, with a name that changes.
      for (let i = 0; i < 100; i++) rows.push(`READER${i}@example.com,Renamed ${i}`);
      const list = await file('big.csv', `${rows.join('\n')}\n`);
      expect(await importFile(store, list, { batchSize: 3000 })).toMatchObject({ imported: 4500, updated: 100, unchanged: 0, rejected: [] });
      expect(await store.count()).toMatchObject({ total: 4500 });
      expect(await store.get('reader7@example.com')).toMatchObject({ email: 'reader7@example.com', name: 'Renamed 7' });
      // Rerun: the first 100 rows rename them back and the last 100 rename them again; nobody is added twice.
      expect(await importFile(store, list, { batchSize: 3000 })).toMatchObject({ imported: 0, updated: 200, unchanged: 4400 });
      expect(await store.count()).toMatchObject({ total: 4500 });
    });

    test('stored addresses in the middle of a large import are merged in file order, while the slices around them are copied', async () => {
      const store = await fresh();
      // Stored already: one address in the third slice of 2,000 rows, one in the fifth.
      await importFile(store, await file('stored.csv', 'email,name,tags\nreader4100@example.com,Old,old\nreader8200@example.com,Old,old\n'));
      const rows = ['email,name,tags'];
      for (let i = 0; i < 12_000; i++) rows.push(`reader${i}@example.com,Reader ${i},new`);
      // The first stored address again two slices later, renamed once more.
      rows.splice(8001, 0, 'READER4100@example.com,Later,later');
      const result = await importFile(store, await file('big.csv', `${rows.join('\n')}\n`));
      expect(result).toMatchObject({ imported: 11_998, updated: 3, unchanged: 0, rejected: [] });
      expect(await store.count()).toMatchObject({ total: 12_000 });
      expect(await store.get('reader4100@example.com')).toMatchObject({ email: 'reader4100@example.com', name: 'Later', tags: ['old', 'new', 'later'] });
      expect(await store.get('reader8200@example.com')).toMatchObject({ name: 'Reader 8200', tags: ['old', 'new'] });
      expect(await store.get('reader11999@example.com')).toMatchObject({ name: 'Reader 11999', tags: ['new'] });
    });

    test('an erased address is refused in every batch of a large import, with its own line', async () => {
      const store = await fresh();
      await importFile(store, await file('a.csv', 'email\ngone@example.com\n'));
      await store.remove('gone@example.com');
      const rows = ['email'];
      for (let i = 0; i < 2500; i++) rows.push(`reader${i}@example.com`);
      rows.push('GONE@example.com');
      const result = await importFile(store, await file('b.csv', `${rows.join('\n')}\n`));
      expect(result).toMatchObject({ imported: 2500 });
      expect(result.rejected).toEqual([{ line: 2502, reason: expect.stringContaining('erased') }]);
      expect(await store.get('gone@example.com')).toBeUndefined();
    });
  });
});

/**
 * Two stores on one fresh PostgreSQL schema, as two processes would open them ("ours" runs the
 * import); the schema is dropped afterwards.
 */
async function racing(run: (ours: SqlStore, theirs: SubscriberStore) => Promise<void>): Promise<void> {
  const schema = `digest_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = withSchema(PG_URL, schema);
  const ours = (await openStore(url)) as SqlStore;
  const theirs = await openStore(url);
  try {
    await run(ours, theirs);
  } finally {
    await ours.close();
    await theirs.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

describe.skipIf(Boolean(pgUnavailable))('bulk import on PostgreSQL, racing another writer', () => {
  test('a remove while an import transaction is open waits for it, then erases what it wrote', () =>
    racing(async (ours, theirs) => {
      let removal: Promise<boolean> | undefined;
      await ours.atomically(async () => {
        await ours.upsert([{ email: 'late@example.com', international: false }], { source: 'import:csv' });
        removal = theirs.remove('late@example.com');
        // Long enough for an unblocked remove to have committed.
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
      expect(await removal).toBe(true);
      expect(await ours.get('late@example.com')).toBeUndefined();
      expect(await ours.isErased('late@example.com')).toBe(true);
    }));

  test('an address another process added after our lookup keeps that process’s row, and the rest of the batch goes in', () =>
    racing(async (ours, theirs) => {
      // Ann is stored already, so the batch cannot be copied straight in and goes the way of a lookup.
      await theirs.upsert([{ email: 'ann@example.com', name: 'Ann', international: false }], { source: 'cli' });
      // Between our lookup and our write, the other process adds one of our addresses.
      const dialect = ours.dialect;
      const lookup = dialect.existing.bind(dialect);
      dialect.existing = async (keys) => {
        const found = await lookup(keys);
        await theirs.upsert([{ email: 'Race@example.com', name: 'Theirs', international: false }], { source: 'cli' });
        return found;
      };
      const list = join(await tempDir(), 'race.csv');
      await writeFile(list, 'email,name\nann@example.com,Ann\nrace@example.com,Ours\nbob@example.com,Bob\n');
      const result = await importFile(ours, list);
      expect(result.rejected).toEqual([]);
      expect(await ours.get('race@example.com')).toMatchObject({ email: 'Race@example.com', name: 'Theirs' });
      expect(await ours.count()).toMatchObject({ total: 3 });
    }));

  test('an address another process is adding while we copy waits for it, then is merged onto its row, once', () =>
    racing(async (ours, theirs) => {
      const list = join(await tempDir(), 'race.csv');
      await writeFile(list, 'email,name,tags\nann@example.com,Ann,\nrace@example.com,Ours,ours\nbob@example.com,Bob,\n');
      let importing: ReturnType<typeof importFile> | undefined;
      // Their row is written but not committed when our copy reaches the same address.
      await theirs.atomically(async () => {
        await theirs.upsert([{ email: 'Race@example.com', name: 'Theirs', tags: ['theirs'], international: false }], { source: 'cli' });
        importing = importFile(ours, list);
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
      const result = await importing!;
      expect(result).toMatchObject({ imported: 2, updated: 1, rejected: [] });
      expect(await ours.get('race@example.com')).toMatchObject({ email: 'Race@example.com', name: 'Ours', tags: ['theirs', 'ours'] });
      expect(await ours.count()).toMatchObject({ total: 3 });
    }));
});
