import { UserError } from '../../errors.js';

/**
 * The schema, as numbered steps that each database runs once, in order, when a store is opened.
 * Append new steps (the send journal of issue 4 will be the next); never edit one that has shipped,
 * since databases out there have already run it.
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string[];
  postgres: string[];
}

const subscriberColumns = (id: string, bool: string) => `
  id ${id},
  email TEXT NOT NULL,
  email_key TEXT NOT NULL UNIQUE,
  name TEXT,
  status TEXT NOT NULL CHECK (status IN ('subscribed', 'unsubscribed', 'bounced', 'complained')),
  tags TEXT NOT NULL DEFAULT '[]',
  attributes TEXT NOT NULL DEFAULT '{}',
  international ${bool} NOT NULL,
  consent_source TEXT,
  consent_at TEXT,
  withdrawn_at TEXT,
  withdrawn_how TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL`;

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'subscribers, erased addresses and the erasure key',
    sqlite: [
      `CREATE TABLE subscribers (${subscriberColumns('INTEGER PRIMARY KEY', 'INTEGER')})`,
      `CREATE INDEX subscribers_status ON subscribers (status)`,
      `CREATE TABLE erased_addresses (hash TEXT PRIMARY KEY, erased_at TEXT NOT NULL)`,
      `CREATE TABLE digest_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
      `INSERT INTO digest_secrets (name, value) VALUES ('erasure-key', lower(hex(randomblob(32))))`,
    ],
    postgres: [
      `CREATE TABLE subscribers (${subscriberColumns('BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', 'BOOLEAN')})`,
      `CREATE INDEX subscribers_status ON subscribers (status)`,
      `CREATE TABLE erased_addresses (hash TEXT PRIMARY KEY, erased_at TEXT NOT NULL)`,
      `CREATE TABLE digest_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
      // gen_random_uuid() is in core PostgreSQL since 13; two of them give 244 random bits.
      `INSERT INTO digest_secrets (name, value) VALUES ('erasure-key', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))`,
    ],
  },
];

/** Runs SQL on one connection; a migration runner needs nothing more. */
export interface SqlRunner {
  run(statement: string, parameters?: unknown[]): Promise<Array<Record<string, unknown>>>;
}

const ledger = `CREATE TABLE IF NOT EXISTS digest_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`;

/**
 * Applies the missing steps inside whatever lock the caller holds (an advisory lock on PostgreSQL,
 * a BEGIN IMMEDIATE transaction on SQLite), so two processes opening a new database at once
 * cannot both run step 1: the second waits, then finds nothing left to do.
 */
export async function applyMigrations(runner: SqlRunner, dialect: 'sqlite' | 'postgres', placeholder: (n: number) => string): Promise<number[]> {
  await runner.run(ledger);
  const done = new Set((await runner.run('SELECT version FROM digest_migrations')).map((row) => Number(row.version)));
  const known = Math.max(...migrations.map((migration) => migration.version));
  const newest = Math.max(0, ...done);
  if (newest > known) {
    throw new UserError(`the database was set up by a newer digest (schema ${newest}; this one knows up to ${known}): upgrade digest`, { code: 'schema-too-new' });
  }
  const applied: number[] = [];
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    for (const statement of migration[dialect]) await runner.run(statement);
    await runner.run(
      `INSERT INTO digest_migrations (version, name, applied_at) VALUES (${placeholder(1)}, ${placeholder(2)}, ${placeholder(3)})`,
      [migration.version, migration.name, new Date().toISOString()],
    );
    applied.push(migration.version);
  }
  return applied;
}
