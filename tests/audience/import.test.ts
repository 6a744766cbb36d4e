import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { exportLines } from '../../src/audience/export.js';
import { importFile } from '../../src/audience/import.js';
import { openStore } from '../../src/audience/open.js';
import type { Subscriber, SubscriberStore } from '../../src/audience/store.js';
import { UserError } from '../../src/errors.js';
import { fixture, onEachImportStore, storeOpener, tempDir } from './databases.js';

async function all(store: SubscriberStore): Promise<Subscriber[]> {
  const found: Subscriber[] = [];
  for await (const subscriber of store.list()) found.push(subscriber);
  return found;
}

async function csvOf(store: SubscriberStore): Promise<string> {
  let text = '';
  for await (const line of exportLines(store)) text += line;
  return text;
}

async function file(name: string, text: string | Buffer): Promise<string> {
  const path = join(await tempDir(), name);
  await writeFile(path, text);
  return path;
}

onEachImportStore((target) => {
  const fresh = storeOpener(target);

  describe('import', () => {
    test('counts new, updated and unchanged subscribers, and a rerun changes nothing', async () => {
      const store = await fresh();
      const list = await file('list.csv', 'email,name\nann@example.com,Ann\nbob@example.com,\n');
      expect(await importFile(store, list)).toMatchObject({ imported: 2, updated: 0, unchanged: 0, rejected: [] });
      expect(await importFile(store, list)).toMatchObject({ imported: 0, updated: 0, unchanged: 2, rejected: [] });
      const changed = await file('changed.csv', 'email,name\nANN@example.com,Ann\nbob@example.com,Bob\n');
      expect(await importFile(store, changed)).toMatchObject({ imported: 0, updated: 1, unchanged: 1 });
      expect((await all(store)).map((s) => [s.email, s.name])).toEqual([
        ['ann@example.com', 'Ann'],
        ['bob@example.com', 'Bob'],
      ]);
    });

    test('the same address twice in one file in different case is one subscriber, stored as first written', async () => {
      const store = await fresh();
      const result = await importFile(store, fixture('spectrum', 'duplicate_case.csv'));
      expect(result).toMatchObject({ imported: 1, updated: 1, rejected: [] });
      expect((await all(store)).map((s) => [s.email, s.name])).toEqual([['ann@example.com', 'Ann Again']]);
    });

    test('every rejected row is reported with its line and reason, and the rest go in', async () => {
      const store = await fresh();
      const result = await importFile(store, fixture('spectrum', 'invalid_rows.csv'));
      expect(result.imported).toBe(2);
      expect(result.rejected).toEqual([
        { line: 3, reason: expect.stringContaining('no @') },
        { line: 5, reason: expect.stringContaining('has no address in the "email" column') },
        { line: 6, reason: expect.stringContaining('quote') },
        { line: 7, reason: 'has 3 fields but the header has 2' },
      ]);
    });

    test('--strict rejects the whole file and changes nothing', async () => {
      const store = await fresh();
      await importFile(store, await file('first.csv', 'email\nkeep@example.com\n'));
      const result = await importFile(store, fixture('spectrum', 'invalid_rows.csv'), { strict: true, batchSize: 1 });
      expect(result).toMatchObject({ imported: 0, updated: 0, unchanged: 0, applied: false });
      expect(result.rejected).toHaveLength(4);
      expect((await all(store)).map((s) => s.email)).toEqual(['keep@example.com']);
    });

    test.each(['no_email_column.csv', 'headerless.csv', 'empty.csv', 'binary.csv', 'latin1.csv'])('%s is one clear error and changes nothing', async (name) => {
      const store = await fresh();
      await importFile(store, await file('first.csv', 'email\nkeep@example.com\n'));
      await expect(importFile(store, fixture('spectrum', name))).rejects.toBeInstanceOf(UserError);
      expect(await store.count()).toMatchObject({ total: 1 });
    });

    test('a file without a header says the first row looks like an address', async () => {
      const store = await fresh();
      await expect(importFile(store, fixture('spectrum', 'headerless.csv'))).rejects.toThrow(/add a header row/);
    });

    test('someone who unsubscribed is never resubscribed by an import', async () => {
      const store = await fresh();
      await importFile(store, await file('a.csv', 'email\nann@example.com\n'));
      expect(await store.unsubscribe('Ann@Example.com', 'test')).toBe(true);
      const again = await file('b.csv', 'email,status\nann@example.com,subscribed\n');
      expect(await importFile(store, again)).toMatchObject({ unchanged: 1 });
      expect((await store.get('ann@example.com'))?.status).toBe('unsubscribed');
    });

    test('an unsubscribe in a file always wins over a stored subscription', async () => {
      const store = await fresh();
      await importFile(store, await file('a.csv', 'email\nann@example.com\n'));
      await importFile(store, await file('b.csv', 'email,status\nANN@example.com,unsubscribed\n'));
      expect(await store.get('ann@example.com')).toMatchObject({ status: 'unsubscribed', withdrawnHow: 'csv: unsubscribed' });
    });

    test('remove erases the data and no later import brings the address back', async () => {
      const store = await fresh();
      const list = await file('a.csv', 'email,name\nann@example.com,Ann\nbob@example.com,Bob\n');
      await importFile(store, list);
      expect(await store.remove('ANN@example.com')).toBe(true);
      expect(await store.get('ann@example.com')).toBeUndefined();
      const result = await importFile(store, list);
      expect(result.rejected).toEqual([{ line: 2, reason: expect.stringContaining('erased') }]);
      expect(await store.get('ann@example.com')).toBeUndefined();
      expect(await store.isErased('Ann@Example.com')).toBe(true);
    });

    test('--tag adds tags to everyone imported, and tags merge with those stored', async () => {
      const store = await fresh();
      await importFile(store, await file('a.csv', 'email,tags\nann@example.com,"a, b"\n'));
      await importFile(store, await file('b.csv', 'email,tags\nann@example.com,c\n'), { tags: ['spring'] });
      expect((await store.get('ann@example.com'))?.tags).toEqual(['a', 'b', 'c', 'spring']);
    });

    test('a crash mid-import leaves whole batches, and running the import again finishes it without duplicates', async () => {
      const store = await fresh();
      const rows = Array.from({ length: 5000 }, (_, i) => `user${String(i).padStart(4, '0')}@example.com`);
      // A byte that is not UTF-8 on line 4002, past the first 64 KiB read, stops the import there as a crash would.
      const broken = Buffer.concat([Buffer.from(`email\n${rows.slice(0, 4000).join('\n')}\n`), Buffer.from([0xff, 0x0a]), Buffer.from(`${rows.slice(4000).join('\n')}\n`)]);
      const error = await importFile(store, await file('broken.csv', broken), { batchSize: 500 }).catch((failure: UserError) => failure);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).located).toMatch(/broken\.csv:4002: is not UTF-8.*rows before it were imported/);
      const partial = (await store.count()).total;
      expect(partial % 500).toBe(0);
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThanOrEqual(4000);
      const fixed = await file('fixed.csv', `email\n${rows.join('\n')}\n`);
      expect(await importFile(store, fixed, { batchSize: 500 })).toMatchObject({ imported: 5000 - partial, unchanged: partial });
      expect(await store.count()).toMatchObject({ total: 5000, subscribed: 5000 });
    });
  });

  describe('export', () => {
    test('imports back unchanged, into a new database and into the same one', async () => {
      const store = await fresh();
      await importFile(store, await file('a.csv', [
        'email,name,tags,status,city',
        'ann@example.com,"Ann ""the first"", Esq.",vip,,Lyon',
        'bob@example.com,"=HYPERLINK(""http://evil.example"")",,unsubscribed,',
        '-carl@example.com,+Carl,@home,bounced,-5',
        'zoë@exämple.com, Zoë ,,,"multi\nline"',
        '',
      ].join('\n')));
      const exported = await csvOf(store);
      expect(exported).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
      expect(exported).toContain(`'-carl@example.com,'+Carl`);
      const path = await file('export.csv', exported);
      const copy = await fresh();
      expect(await importFile(copy, path)).toMatchObject({ format: 'digest', imported: 4, rejected: [] });
      expect(await csvOf(copy)).toBe(exported);
      expect(await all(copy)).toEqual(await all(store));
      expect(await importFile(store, path)).toMatchObject({ imported: 0, updated: 0, unchanged: 4 });
    });
  });

  describe('list and count', () => {
    test('filter by status and by tag', async () => {
      const store = await fresh();
      await importFile(store, await file('a.csv', 'email,tags,status\na@example.com,"x, y",\nb@example.com,y,unsubscribed\nc@example.com,,complained\nd@example.com,x,bounced\n'));
      expect(await store.count()).toEqual({ total: 4, subscribed: 1, unsubscribed: 1, bounced: 1, complained: 1 });
      expect(await store.count({ tag: 'y' })).toEqual({ total: 2, subscribed: 1, unsubscribed: 1, bounced: 0, complained: 0 });
      const tagged: string[] = [];
      for await (const s of store.list({ tag: 'x', status: 'bounced' })) tagged.push(s.email);
      expect(tagged).toEqual(['d@example.com']);
    });

    test('listing pages through more subscribers than one page holds, in order', async () => {
      const store = await fresh();
      const rows = Array.from({ length: 2503 }, (_, i) => `p${String(i).padStart(4, '0')}@example.com`);
      await importFile(store, await file('many.csv', `email\n${rows.join('\n')}\n`));
      expect((await all(store)).map((s) => s.email)).toEqual(rows);
    });
  });

  describe('migrations', () => {
    test('two stores opening a new database at once both succeed and the schema is set up once', async () => {
      const url = await target.fresh();
      const stores = await Promise.all([openStore(url, { create: true, ...target.options }), openStore(url, { create: true, ...target.options }), openStore(url, { create: true })]);
      try {
        await stores[0]!.upsert([{ email: 'a@example.com', international: false }], {});
        expect(await stores[2]!.count()).toMatchObject({ total: 1 });
      } finally {
        for (const store of stores) await store.close();
      }
    });
  });
});
