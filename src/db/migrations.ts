import { UserError } from '../errors.js';

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

const statuses = ['subscribed', 'unsubscribed', 'bounced', 'complained'];
const journalStates = ['pending', 'sending', 'sent', 'failed', 'deferred', 'unknown'];

/** `column IN ('a', 'b', …)`: how the first migrations wrote a column's allowed values. */
const inList = (column: string, values: string[]) => `${column} IN (${values.map((value) => `'${value}'`).join(', ')})`;
/**
 * The same as `column = 'a' OR column = 'b' …`. In a CHECK, SQLite builds an IN list of more than two
 * values into a temporary b-tree for every row it checks: about a microsecond a row, a third of a
 * large import's inserts. Compared one by one, the check costs next to nothing.
 */
const anyOf = (column: string, values: string[]) => `(${values.map((value) => `${column} = '${value}'`).join(' OR ')})`;

/** The subscribers' columns; `id` only as the first migrations had it (see migration 5). */
const subscriberColumns = (id: string | undefined, bool: string, allowed = inList) => `${id === undefined ? '' : `
  id ${id},`}
  email TEXT NOT NULL,
  email_key TEXT NOT NULL UNIQUE,
  name TEXT,
  status TEXT NOT NULL CHECK (${allowed('status', statuses)}),
  tags TEXT NOT NULL DEFAULT '[]',
  attributes TEXT NOT NULL DEFAULT '{}',
  international ${bool} NOT NULL,
  consent_source TEXT,
  consent_at TEXT,
  withdrawn_at TEXT,
  withdrawn_how TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL`;

/**
 * The send journal (src/delivery/journal.ts). Times are ISO 8601 UTC text, as elsewhere in this
 * schema, so that both databases compare them the same way.
 */
const subscriberFields = 'email, email_key, name, status, tags, attributes, international, consent_source, consent_at, withdrawn_at, withdrawn_how, created_at, updated_at';

const journalTable = (name: string, allowed = inList) => `CREATE TABLE ${name} (
    issue TEXT NOT NULL,
    email_key TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL CHECK (${allowed('state', journalStates)}),
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TEXT,
    message_id TEXT,
    reply TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (issue, email_key)
  )`;

const journalStatements = [
  `CREATE TABLE sends (
    issue TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    started_at TEXT NOT NULL,
    enqueued_at TEXT,
    completed_at TEXT,
    excluded INTEGER NOT NULL DEFAULT 0
  )`,
  journalTable('send_journal'),
  `CREATE INDEX send_journal_state ON send_journal (issue, state)`,
];

const signupsTable = `CREATE TABLE signups (
    email_key TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT,
    source TEXT NOT NULL,
    consent_version TEXT,
    ip TEXT,
    confirmed_at TEXT,
    PRIMARY KEY (email_key, requested_at)
  )`;

/** What came back after a send (src/bounces/): one row per report and reader, kept once however often it is read. */
const bounceEventsTable = `CREATE TABLE bounce_events (
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    email_key TEXT NOT NULL,
    email TEXT NOT NULL,
    issue TEXT,
    kind TEXT NOT NULL,
    status TEXT,
    diagnostic TEXT,
    action TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (source, source_id, email_key)
  )`;

const reportStatements = [
  `CREATE TABLE unsubscribe_events (
    issue TEXT NOT NULL,
    email_key TEXT NOT NULL,
    how TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (issue, email_key)
  )`,
  `CREATE TABLE link_clicks (
    issue TEXT NOT NULL,
    url TEXT NOT NULL,
    clicks INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    PRIMARY KEY (issue, url)
  )`,
  `CREATE TABLE reader_clicks (
    issue TEXT NOT NULL,
    url TEXT NOT NULL,
    email_key TEXT NOT NULL,
    clicks INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    PRIMARY KEY (issue, url, email_key)
  )`,
];

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
  {
    version: 2,
    name: 'the send journal: one row per issue and reader, and one per send',
    sqlite: journalStatements,
    postgres: journalStatements,
  },
  {
    // Listing by status pages through the table by id (the primary key) and filters as it goes, and
    // counting reads every row anyway, so the index on status was never the best plan; yet every
    // imported row paid for it (about a fifth of PostgreSQL's work on a large import).
    version: 3,
    name: 'no index on subscribers.status',
    sqlite: ['DROP INDEX IF EXISTS subscribers_status'],
    postgres: ['DROP INDEX IF EXISTS subscribers_status'],
  },
  {
    // A claim takes the next pending readers in key order. With the index on (issue, state) alone
    // each claim sorted every pending row to find the first hundred, and a send of a million slowed
    // as it went; with email_key in the index the claim reads only the rows it takes.
    version: 4,
    name: 'the journal indexed for claims in key order',
    sqlite: ['CREATE INDEX send_journal_claim ON send_journal (issue, state, email_key)', 'DROP INDEX IF EXISTS send_journal_state'],
    postgres: ['CREATE INDEX send_journal_claim ON send_journal (issue, state, email_key)', 'DROP INDEX IF EXISTS send_journal_state'],
  },
  {
    // For a large import. SQLite: see anyOf; it cannot change a CHECK in place, so both tables are
    // built anew and their rows copied over (the way its documentation gives for such changes).
    // PostgreSQL: an identity column was a sequence step and a second index for every row written,
    // a third of a large import's work on the server, and nothing needs it (lists page by email_key,
    // SQLite keeps its implicit rowid); email_key, the identity, becomes the primary key, compared
    // byte by byte (it is lower-cased already), which costs the index less than the locale's rules.
    version: 5,
    name: 'subscribers keyed by email_key; SQLite checks status and state value by value',
    sqlite: [
      `CREATE TABLE subscribers_new (${subscriberColumns(undefined, 'INTEGER', anyOf)})`,
      `INSERT INTO subscribers_new (${subscriberFields}) SELECT ${subscriberFields} FROM subscribers ORDER BY id`,
      'DROP TABLE subscribers',
      'ALTER TABLE subscribers_new RENAME TO subscribers',
      journalTable('send_journal_new', anyOf),
      'INSERT INTO send_journal_new SELECT * FROM send_journal',
      'DROP TABLE send_journal',
      'ALTER TABLE send_journal_new RENAME TO send_journal',
      'CREATE INDEX send_journal_claim ON send_journal (issue, state, email_key)',
    ],
    postgres: [
      'ALTER TABLE subscribers DROP COLUMN id',
      'ALTER TABLE subscribers DROP CONSTRAINT subscribers_email_key_key',
      'ALTER TABLE subscribers ALTER COLUMN email_key TYPE TEXT COLLATE "C"',
      'ALTER TABLE subscribers ADD CONSTRAINT subscribers_pkey PRIMARY KEY (email_key)',
    ],
  },
  {
    // With more than one delivery route (failover), which one carried a reader's message: asked
    // of status, and needed to look a message up in the right provider's log.
    version: 6,
    name: 'the journal records the route that carried each message',
    sqlite: ['ALTER TABLE send_journal ADD COLUMN route TEXT'],
    postgres: ['ALTER TABLE send_journal ADD COLUMN route TEXT'],
  },
  {
    // Readers who sign themselves up (src/signup/): each request, kept as the record of consent
    // once confirmed. A table of its own rather than a status on subscribers, so that a pending
    // address is on no list a send or an import reads until its owner confirms.
    version: 7,
    name: 'sign-up requests and their confirmations',
    sqlite: [signupsTable],
    postgres: [signupsTable],
  },
  {
    // Bounces and complaints that come back after the send. Each message's envelope sender carries
    // a tag of its own (VERP), written with the message's `sending` mark, so that a report maps to
    // its reader and issue without guessing; and the events, so that a report read twice counts once
    // and soft bounces can be counted over a window.
    version: 8,
    name: 'bounce tags on the journal, and the bounce and complaint events',
    sqlite: [
      'ALTER TABLE send_journal ADD COLUMN bounce_tag TEXT',
      'CREATE INDEX send_journal_bounce_tag ON send_journal (bounce_tag) WHERE bounce_tag IS NOT NULL',
      bounceEventsTable,
      'CREATE INDEX bounce_events_reader ON bounce_events (email_key, received_at)',
      'CREATE INDEX bounce_events_issue ON bounce_events (issue)',
    ],
    postgres: [
      'ALTER TABLE send_journal ADD COLUMN bounce_tag TEXT',
      'CREATE INDEX send_journal_bounce_tag ON send_journal (bounce_tag) WHERE bounce_tag IS NOT NULL',
      bounceEventsTable,
      'CREATE INDEX bounce_events_reader ON bounce_events (email_key, received_at)',
      'CREATE INDEX bounce_events_issue ON bounce_events (issue)',
    ],
  },
  {
    // Reports (src/report/): which issue's link a reader unsubscribed with, so that an issue's
    // unsubscribes are counted from its own tokens rather than guessed from the dates; and the
    // clicks on tracked links (src/tracking/), counted per issue and link, and per reader only
    // when the config asks for it (tracking.perReader).
    version: 9,
    name: 'unsubscribes by issue, and click counts',
    sqlite: reportStatements,
    postgres: reportStatements,
  },
];

/** The table of steps applied, created by the runner itself before anything else. */
export const ledgerStatement = `CREATE TABLE IF NOT EXISTS digest_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`;
export const appliedStatement = 'SELECT version FROM digest_migrations';
export const recordStatement = (placeholder: (n: number) => string) =>
  `INSERT INTO digest_migrations (version, name, applied_at) VALUES (${placeholder(1)}, ${placeholder(2)}, ${placeholder(3)})`;

/**
 * The steps a database still needs, given the versions it has applied. Each dialect runs them
 * inside its own lock (an advisory lock on PostgreSQL, a BEGIN IMMEDIATE transaction on SQLite), so
 * two processes opening a new database at once cannot both run step 1: the second waits, then
 * finds nothing left to do.
 */
export function pendingMigrations(applied: Iterable<unknown>): Migration[] {
  const done = new Set([...applied].map(Number));
  const known = Math.max(...migrations.map((migration) => migration.version));
  const newest = Math.max(0, ...done);
  if (newest > known) {
    throw new UserError(`the database was set up by a newer digest (schema ${newest}; this one knows up to ${known}): upgrade digest`, { code: 'schema-too-new' });
  }
  return migrations.filter((migration) => !done.has(migration.version));
}
