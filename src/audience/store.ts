import type { Connection } from '../db/connection.js';

/**
 * The subscriber list behind one interface, whatever holds it: a CSV file read as the list itself
 * (read-only, streamed), SQLite or PostgreSQL. `digest send` reads a SubscriberSource; the
 * `digest subscribers` commands change a SubscriberStore.
 */

export const statuses = ['subscribed', 'unsubscribed', 'bounced', 'complained'] as const;
export type Status = (typeof statuses)[number];

export function isStatus(value: string): value is Status {
  return (statuses as readonly string[]).includes(value);
}

/** Free attributes a template may print: `{{attributes.city}}`. */
export type Attributes = Record<string, unknown>;

export interface Subscriber {
  /** As the subscriber gave it, trimmed; compared case-insensitively. */
  email: string;
  name: string | null;
  status: Status;
  tags: string[];
  attributes: Attributes;
  /** Non-ASCII in the address (SMTPUTF8 or an IDN domain): some relays refuse these. */
  international: boolean;
  /** Where and when consent was given (`import:mailchimp`, `cli`, a form's name), ISO 8601 UTC. */
  consentSource: string | null;
  consentAt: string | null;
  /** When and how consent was withdrawn or the address stopped working; null while subscribed. */
  withdrawnAt: string | null;
  withdrawnHow: string | null;
}

/** A subscriber as a file or a command gives it: only the address is required. */
export interface SubscriberInput {
  email: string;
  name?: string | null;
  status?: Status;
  tags?: string[];
  attributes?: Attributes;
  consentSource?: string | null;
  consentAt?: string | null;
  withdrawnAt?: string | null;
  withdrawnHow?: string | null;
}

/** An incoming subscriber whose address has been checked (address.ts). */
export type CheckedInput = SubscriberInput & { international: boolean };

export interface ListFilter {
  status?: Status;
  tag?: string;
}

export interface Counts {
  total: number;
  subscribed: number;
  unsubscribed: number;
  bounced: number;
  complained: number;
}

export function emptyCounts(): Counts {
  return { total: 0, subscribed: 0, unsubscribed: 0, bounced: 0, complained: 0 };
}

/** What happened to one incoming subscriber. */
export type Outcome = 'imported' | 'updated' | 'unchanged' | 'erased';

export interface MergeOptions {
  /** Lets `subscribed` win over a stored unsubscribe, bounce or complaint: for a confirmed sign-up alone. */
  resubscribe?: boolean;
  /** Tags added to every incoming subscriber. */
  tags?: string[];
  /** What to record as consent source when the file says nothing (`import:mailchimp`). */
  source?: string;
  /** The time to stamp on changes, so one import has one time. */
  now?: string;
}

/** Everything that can be read: the list to send to. */
export interface SubscriberSource {
  /** Streams subscribers in a stable order, never holding the whole list in memory. */
  list(filter?: ListFilter): AsyncIterable<Subscriber>;
  count(filter?: Pick<ListFilter, 'tag'>): Promise<Counts>;
  close(): Promise<void>;
}

/** A database: the source, and the changes the commands make. */
export interface SubscriberStore extends SubscriberSource {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Whether upsertSlices writes a slice while the next is read (PostgreSQL's server, a SQLite
   * writer thread): then a transaction can stay open while its slices are read.
   */
  readonly pipelined: boolean;
  /** The database itself, for the send journal that lives beside the list (src/delivery/journal.ts). */
  readonly dialect: Connection;
  get(email: string): Promise<Subscriber | undefined>;
  /**
   * Merges incoming subscribers in one transaction, all or nothing. Used by `add` (one) and by
   * import (a batch); see merge.ts for the rules, the first of which is that an unsubscribe is
   * never undone without `resubscribe`.
   */
  upsert(batch: CheckedInput[], options: MergeOptions): Promise<Outcome[]>;
  /**
   * Upsert for bulk import: one transaction's incoming subscribers, given a slice at a time, with
   * the outcomes slice by slice. The slices may be read while the transaction is open, and a
   * database may be writing earlier slices meanwhile (PostgreSQL copies them as they come).
   */
  upsertSlices(slices: AsyncIterable<CheckedInput[]> | Iterable<CheckedInput[]>, options: MergeOptions): Promise<Outcome[][]>;
  /** Runs several upserts as one transaction: `--strict` imports are all or nothing. Upserts only: other changes inside it may wait on its lock. */
  atomically<T>(work: () => Promise<T>): Promise<T>;
  /**
   * What a bounce or complaint does to a reader on the list (src/bounces/): one UPDATE, since a
   * bounce mailbox is read a report at a time. Returns whether the reader changed.
   */
  withdraw(email: string, status: 'bounced' | 'complained', how: string, at: string): Promise<boolean>;
  /** Marks an address unsubscribed, recording it even if it was never on the list. Returns whether anything changed. */
  unsubscribe(email: string, how: string): Promise<boolean>;
  /** Erases the personal data, keeping only a keyed hash that stops any import from bringing it back. Returns whether it was on the list. */
  remove(email: string): Promise<boolean>;
  /** The keys (lower-cased) among these addresses that must not be mailed: not subscribed, or erased. */
  suppressed(emails: string[]): Promise<Set<string>>;
  /** Whether an address was erased by `remove`. */
  isErased(email: string): Promise<boolean>;
  /** Lifts an erasure: only when its owner confirms a sign-up (src/signup/ledger.ts). */
  forgetErasure(email: string): Promise<void>;
}
