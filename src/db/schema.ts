/** The tables as kysely sees them. Times are ISO 8601 UTC text in both databases, so they sort and compare alike. */
export interface Database {
  subscribers: SubscribersTable;
  erased_addresses: ErasedAddressesTable;
  digest_secrets: SecretsTable;
  digest_migrations: MigrationsTable;
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
