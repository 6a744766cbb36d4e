import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import { openStore } from '../../src/audience/open.js';
import { migrations } from '../../src/db/migrations.js';
import type { SubscriberStore } from '../../src/audience/store.js';
import { onEachDatabase, type Target } from '../audience/databases.js';

/** Runs statements on the database a test URL names, outside digest: the state an older digest left. */
async function raw(target: Target, url: string, statements: string[]): Promise<void> {
  if (target.kind === 'sqlite') {
    const handle = new BetterSqlite3(url.slice('sqlite:'.length));
    try {
      for (const statement of statements) handle.exec(statement);
    } finally {
      handle.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

const ledger = 'CREATE TABLE digest_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)';
const now = '2026-01-05T10:00:00.000Z';

/** A database as digest left it at schema 4, with a subscriber and a journal row in it. */
function schemaFour(kind: Target['kind']): string[] {
  const steps = migrations.filter((migration) => migration.version <= 4);
  return [
    ledger,
    ...steps.flatMap((migration) => [...migration[kind], `INSERT INTO digest_migrations VALUES (${migration.version}, '${migration.name}', '${now}')`]),
    `INSERT INTO subscribers (email, email_key, name, status, tags, attributes, international, consent_source, consent_at, created_at, updated_at)
       VALUES ('Ann@Example.com', 'ann@example.com', 'Ann', 'unsubscribed', '["weekly"]', '{"city":"Lyon"}', ${kind === 'sqlite' ? 0 : 'false'}, 'import:digest', '${now}', '${now}', '${now}')`,
    `INSERT INTO send_journal (issue, email_key, email, state, updated_at) VALUES ('2026-01-05', 'ann@example.com', 'Ann@Example.com', 'sent', '${now}')`,
  ];
}

onEachDatabase((target) => {
  const open: SubscriberStore[] = [];
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });

  describe('migration 5 (subscribers keyed by email_key, checks value by value)', () => {
    test('a database from schema 4 keeps its subscribers and journal, and still refuses an unknown status or state', async () => {
      const url = await target.fresh();
      await raw(target, url, schemaFour(target.kind));
      const store = await openStore(url);
      open.push(store);

      expect(await store.get('ANN@example.com')).toEqual({
        email: 'Ann@Example.com',
        name: 'Ann',
        status: 'unsubscribed',
        tags: ['weekly'],
        attributes: { city: 'Lyon' },
        international: false,
        consentSource: 'import:digest',
        consentAt: now,
        withdrawnAt: null,
        withdrawnHow: null,
      });
      const dialect = (store as unknown as { dialect: { db: import('kysely').Kysely<Record<string, Record<string, unknown>>> } }).dialect;
      expect(await dialect.db.selectFrom('send_journal').select(['email_key', 'state']).execute()).toEqual([{ email_key: 'ann@example.com', state: 'sent' }]);
      const versions = await dialect.db.selectFrom('digest_migrations').select('version').orderBy('version').execute();
      expect(versions.map((row) => Number(row.version))).toEqual(migrations.map((migration) => migration.version));

      await expect(raw(target, url, [`UPDATE subscribers SET status = 'gone'`])).rejects.toThrow(/CHECK|check constraint/);
      await expect(raw(target, url, [`UPDATE send_journal SET state = 'lost'`])).rejects.toThrow(/CHECK|check constraint/);
      // email_key is still unique (the primary key on PostgreSQL).
      await expect(
        raw(target, url, [
          `INSERT INTO subscribers (email, email_key, status, international, created_at, updated_at) VALUES ('ann@example.com', 'ann@example.com', 'subscribed', ${target.kind === 'sqlite' ? 0 : 'false'}, '${now}', '${now}')`,
        ]),
      ).rejects.toThrow(/UNIQUE|duplicate key/);
      // Every allowed value still passes.
      for (const status of ['subscribed', 'bounced', 'complained', 'unsubscribed']) await raw(target, url, [`UPDATE subscribers SET status = '${status}'`]);
      for (const state of ['pending', 'sending', 'failed', 'deferred', 'unknown', 'sent']) await raw(target, url, [`UPDATE send_journal SET state = '${state}'`]);
    });

    test('lists page through the subscribers in key order', async () => {
      const store = await openStore(await target.fresh(), { create: true });
      open.push(store);
      const emails = Array.from({ length: 2100 }, (_, i) => `r${(i * 7919) % 2100}@example.com`);
      const outcomes = await store.upsert(
        emails.map((email) => ({ email, international: false })),
        {},
      );
      expect(outcomes.every((outcome) => outcome === 'imported')).toBe(true);
      const listed: string[] = [];
      for await (const subscriber of store.list()) listed.push(subscriber.email);
      expect(listed).toEqual([...emails].sort());
    });
  });
});
