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
  signups: SignupsTable;
  bounce_events: BounceEventsTable;
  unsubscribe_events: UnsubscribeEventsTable;
  link_clicks: LinkClicksTable;
  reader_clicks: ReaderClicksTable;
}

/**
 * A report that came back after a send, for one reader (src/bounces/): kept once per source and
 * report, so reading a mailbox or a webhook twice changes nothing.
 */
export interface BounceEventsTable {
  /** `mailbox`, `file`, `webhook:postmark`, … */
  source: string;
  /** The report's Message-ID, the provider's event id, or a hash of the report's bytes. */
  source_id: string;
  email_key: string;
  email: string;
  /** The issue whose message bounced, when the report says (its tag or Message-ID). */
  issue: string | null;
  /** `hard`, `soft`, `complaint` or `sender` (a refusal about the sender, not the address). */
  kind: string;
  status: string | null;
  diagnostic: string | null;
  /** What it did: `bounced`, `complained`, `counted` (a soft bounce below the limit), `none`. */
  action: string;
  received_at: string;
}

/**
 * One sign-up request (src/signup/ledger.ts): pending while `confirmed_at` is null and the request
 * is younger than the token's life; once confirmed, the record of the consent given.
 */
export interface SignupsTable {
  email_key: string;
  requested_at: string;
  email: string;
  name: string | null;
  /** `form`, or the origin of the page the form was embedded in. */
  source: string;
  /** The version of the consent text the reader was shown. */
  consent_version: string | null;
  /** Only when the config asks for it (signup.storeIp). */
  ip: string | null;
  confirmed_at: string | null;
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
  /** The tag in this message's envelope sender (VERP), when a bounce address is configured. */
  bounce_tag: string | null;
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

/** A reader who left through an issue's own unsubscribe link (only when it changed their status). */
export interface UnsubscribeEventsTable {
  issue: string;
  email_key: string;
  /** `one-click` (RFC 8058) or `page`. */
  how: string;
  at: string;
}

/** Clicks on one tracked link of one issue, counted together (tracking.clicks). */
export interface LinkClicksTable {
  issue: string;
  url: string;
  clicks: number;
  first_at: string;
  last_at: string;
}

/** The same, per reader: kept only with tracking.perReader, which the footer tells readers. */
export interface ReaderClicksTable {
  issue: string;
  url: string;
  email_key: string;
  clicks: number;
  first_at: string;
  last_at: string;
}
