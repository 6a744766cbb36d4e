/**
 * The tables as kysely sees them (migrations.ts makes them). Times are ISO 8601 UTC text in both
 * databases, so they sort and compare alike.
 */
export interface Database {
  subscribers: SubscribersTable;
  erased_addresses: ErasedAddressesTable;
  digest_secrets: SecretsTable;
  digest_migrations: MigrationsTable;
  send_journal: JournalTable;
  sends: SendsTable;
}

export interface SubscribersTable {
  email: string;
  /** emailKey(email): the unique, case-insensitive identity of a subscriber, and the key lists page by. */
  email_key: string;
  name: string | null;
  status: string;
  /** A JSON array of strings. */
  tags: string;
  /** A JSON object. */
  attributes: string;
  /** 0/1 in SQLite, boolean in PostgreSQL. */
  international: number | boolean;
  consent_source: string | null;
  consent_at: string | null;
  withdrawn_at: string | null;
  withdrawn_how: string | null;
  created_at: string;
  updated_at: string;
}

export interface ErasedAddressesTable {
  hash: string;
  erased_at: string;
}

export interface SecretsTable {
  name: string;
  value: string;
}

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: string;
}

/** Where a reader stands with an issue; src/delivery/journal.ts tells how a row moves between them. */
export type JournalState = 'pending' | 'sending' | 'sent' | 'failed' | 'deferred' | 'unknown';

/** The send journal: one row per issue and reader. */
export interface JournalTable {
  issue: string;
  email_key: string;
  email: string;
  name: string | null;
  attributes: string;
  state: JournalState;
  attempts: number;
  lease_owner: string | null;
  lease_until: string | null;
  message_id: string | null;
  reply: string | null;
  /** The delivery route that carried the message (its description): one of several with failover. */
  route: string | null;
  updated_at: string;
}

/** One row per send of an issue. */
export interface SendsTable {
  issue: string;
  subject: string;
  started_at: string;
  enqueued_at: string | null;
  completed_at: string | null;
  /** Readers the list held who were not enqueued: unsubscribed, bounced, erased, wrong tags. */
  excluded: number;
}
