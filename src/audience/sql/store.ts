import { checkAddress } from '../address.js';
import { emailKey, erasureHash } from '../key.js';
import {
  emptyCounts,
  isStatus,
  type Counts,
  type ListFilter,
  type MergeOptions,
  type Outcome,
  type Subscriber,
  type CheckedInput,
  type SubscriberStore,
} from '../store.js';
import type { Selectable } from 'kysely';
import type { BulkWriter, Dialect } from './dialect.js';
import type { SubscribersTable } from '../../db/schema.js';
import { subscriberFromRow } from './rows.js';
import { Upserts } from './upsert.js';

/** Rows fetched per query while listing: enough to keep round trips rare, few enough to keep memory flat. */
const PAGE = 1000;

/** The store over either SQL database: the logic is here once, the differences are in the Dialect. */
export class SqlStore implements SubscriberStore {
  private secret?: string;

  private readonly upserts: Upserts;

  /**
   * The dialect is public for the send journal (src/delivery/journal.ts), which lives in the same
   * database. Merges of incoming subscribers (upsert) go through the writer: the dialect itself, or
   * one on a thread of its own for a large SQLite import (see openStore).
   */
  constructor(
    readonly dialect: Dialect,
    private readonly writer: BulkWriter = dialect,
  ) {
    this.upserts = new Upserts(writer, (batch) => this.erasedAmong(batch));
  }

  get kind() {
    return this.dialect.kind;
  }

  /** Whether a slice is written while the next is read: PostgreSQL's server, or a SQLite writer thread. */
  get pipelined(): boolean {
    return this.dialect.kind === 'postgres' || this.writer !== this.dialect;
  }

  async *list(filter: ListFilter = {}): AsyncIterable<Subscriber> {
    // Keyset pagination by the unique key, not OFFSET and not a cursor: flat memory, and it works
    // the same in both databases, whose key columns both compare byte by byte.
    let after = '';
    for (;;) {
      const rows = await this.page(filter, after);
      for (const row of rows) yield subscriberFromRow(row);
      if (rows.length < PAGE) return;
      after = rows.at(-1)!.email_key;
    }
  }

  private page(filter: ListFilter, after: string): Promise<Array<Selectable<SubscribersTable>>> {
    let query = this.dialect.db.selectFrom('subscribers').selectAll().where('email_key', '>', after).orderBy('email_key').limit(PAGE);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.tag !== undefined) query = query.where(this.dialect.hasTag(filter.tag));
    return query.execute();
  }

  async count(filter: Pick<ListFilter, 'tag'> = {}): Promise<Counts> {
    let query = this.dialect.db
      .selectFrom('subscribers')
      .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy('status');
    if (filter.tag !== undefined) query = query.where(this.dialect.hasTag(filter.tag));
    const counts = emptyCounts();
    for (const row of await query.execute()) {
      const n = Number(row.n);
      if (isStatus(row.status)) counts[row.status] = n;
      counts.total += n;
    }
    return counts;
  }

  async get(email: string): Promise<Subscriber | undefined> {
    const row = await this.dialect.db.selectFrom('subscribers').selectAll().where('email_key', '=', emailKey(email)).executeTakeFirst();
    return row && subscriberFromRow(row);
  }

  atomically<T>(work: () => Promise<T>): Promise<T> {
    return this.writer.transaction(work);
  }

  async upsert(batch: CheckedInput[], options: MergeOptions): Promise<Outcome[]> {
    const now = options.now ?? new Date().toISOString();
    return this.writer.transaction(() => this.upserts.batch(batch, { ...options, now }));
  }

  async upsertSlices(slices: AsyncIterable<CheckedInput[]> | Iterable<CheckedInput[]>, options: MergeOptions): Promise<Outcome[][]> {
    const now = options.now ?? new Date().toISOString();
    return this.writer.transaction(() => this.upserts.slices(slices, { ...options, now }));
  }

  /** For each incoming subscriber, whether its address was erased by `remove`. */
  private async erasedAmong(batch: CheckedInput[]): Promise<boolean[]> {
    const secret = await this.erasureSecret();
    const hashes = batch.map((input) => erasureHash(input.email, secret));
    const found = await this.writer.erased([...new Set(hashes)]);
    return hashes.map((hash) => found.has(hash));
  }

  async withdraw(email: string, status: 'bounced' | 'complained', how: string, at: string): Promise<boolean> {
    const result = await this.dialect.db
      .updateTable('subscribers')
      .set({ status, withdrawn_at: at, withdrawn_how: how })
      .where('email_key', '=', emailKey(email))
      .where('status', '!=', status)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async unsubscribe(email: string, how: string): Promise<boolean> {
    const check = checkAddress(email);
    const international = check.ok ? check.international : false;
    const [outcome] = await this.upsert([{ email: email.trim(), status: 'unsubscribed', withdrawnHow: how, international }], { source: 'cli' });
    return outcome === 'imported' || outcome === 'updated';
  }

  async remove(email: string): Promise<boolean> {
    const secret = await this.erasureSecret();
    const now = new Date().toISOString();
    return this.dialect.transaction(async () => {
      // The hash first: on PostgreSQL this waits for any import that has checked the erased
      // addresses (it holds them locked, see anyErased) to commit, and only then deletes the row
      // that import may have written. Deleting first could miss that row, or deadlock with it.
      const hash = erasureHash(email, secret);
      await this.dialect.db
        .insertInto('erased_addresses')
        .values({ hash, erased_at: now })
        .onConflict((conflict) => conflict.column('hash').doNothing())
        .execute();
      const deleted = await this.dialect.db.deleteFrom('subscribers').where('email_key', '=', emailKey(email)).executeTakeFirst();
      return Number(deleted.numDeletedRows) > 0;
    });
  }

  /** The keys among these addresses that must not be mailed: unsubscribed, bounced, complained or erased. */
  async suppressed(emails: string[]): Promise<Set<string>> {
    const keys = emails.map(emailKey);
    const found = new Set<string>();
    if (!keys.length) return found;
    for (const [key, subscriber] of await this.dialect.existing(keys)) if (subscriber.status !== 'subscribed') found.add(key);
    const secret = await this.erasureSecret();
    const byHash = new Map(keys.map((key) => [erasureHash(key, secret), key]));
    for (const hash of await this.dialect.erased([...byHash.keys()])) found.add(byHash.get(hash)!);
    return found;
  }

  async isErased(email: string): Promise<boolean> {
    const hash = erasureHash(email, await this.erasureSecret());
    return (await this.dialect.erased([hash])).size > 0;
  }

  async forgetErasure(email: string): Promise<void> {
    const hash = erasureHash(email, await this.erasureSecret());
    await this.dialect.db.deleteFrom('erased_addresses').where('hash', '=', hash).execute();
  }

  async close(): Promise<void> {
    if (this.writer !== this.dialect) await this.writer.close?.();
    await this.dialect.close();
  }

  private async erasureSecret(): Promise<string> {
    if (this.secret === undefined) {
      const row = await this.dialect.db.selectFrom('digest_secrets').select('value').where('name', '=', 'erasure-key').executeTakeFirstOrThrow();
      this.secret = row.value;
    }
    return this.secret;
  }
}

