import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Connection } from '../db/connection.js';
import type { Database, JournalState, JournalTable, SendsTable } from '../db/schema.js';
import { CompiledOnce } from './compiled-once.js';
import { GroupCommit } from './group-commit.js';

export type { JournalState };

export interface JournalEntry {
  key: string;
  email: string;
  name: string | null;
  attributes: Record<string, unknown>;
  attempts: number;
}

export type StateCounts = Record<JournalState, number>;

export function emptyStateCounts(): StateCounts {
  return { pending: 0, sending: 0, sent: 0, failed: 0, deferred: 0, unknown: 0 };
}

/** A claim covers a batch long enough to send it; `sending` rows keep theirs past the DATA timeout. */
const CLAIM_MS = 5 * 60_000;
const SENDING_MS = 15 * 60_000;

/** Who holds a lease: host and process, so a dead process on this host is recognised at once. */
export function workerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** One write the group commit makes: a reader marked `sending`, or the outcome of an attempt. */
type JournalWrite =
  | { kind: 'sending'; issue: string; key: string; messageId: string | null; bounceTag: string | null; at: Date }
  | { kind: 'outcome'; issue: string; key: string; state: Outcome; reply: string | null; messageId: string | null; route: string | null; at: Date };

/** What an attempt can leave: `pending` puts the reader back for a retry later in the same run. */
export type Outcome = Exclude<JournalState, 'sending'>;

/**
 * The send journal: for each (issue, reader) one row whose state says whether that reader has been
 * sent the issue. It lives in the subscriber database, so the list, the journal and every process
 * sending from them agree on one truth.
 *
 *   pending ──claim──▶ (leased) ──▶ sending ──▶ sent | failed | deferred
 *                                      │
 *                                      ├─ the whole message went out, no answer came ──▶ unknown
 *                                      └─ process died before its outcome was written ──▶ unknown
 *
 * `sending` is written, and committed, before the first byte of a message goes to SMTP (its
 * envelope, which cannot deliver anything, may go out meanwhile). A row found in
 * `sending` whose owner is gone was handed over and its answer lost: it becomes `unknown` and is
 * not sent again unless asked, because a second copy in a reader's inbox is worse than a report.
 * Outcomes are committed within a few milliseconds of the answer (GroupCommit), so after a kill
 * `unknown` holds the readers in flight and barely more.
 */
export class Journal {
  private readonly db: Kysely<Database>;
  /** The writes made for every message, compiled once (see CompiledOnce). */
  private readonly sendingStatement: CompiledOnce<'lease_until' | 'updated_at' | 'message_id' | 'bounce_tag' | 'issue' | 'key' | 'owner'>;
  private readonly outcomeStatement: CompiledOnce<'state' | 'reply' | 'message_id' | 'route' | 'updated_at' | 'issue' | 'key' | 'owner'>;
  private readonly retryStatement: CompiledOnce<'reply' | 'updated_at' | 'issue' | 'key' | 'owner'>;
  /**
   * Every `sending` mark and every outcome goes through one group commit: a mark is committed
   * before its message leaves, and an outcome is durable within a commit or two of the answer, so
   * a process killed at full speed leaves `unknown` only the readers in flight and those answered
   * in the last few milliseconds.
   */
  private readonly writes = new GroupCommit<JournalWrite, boolean>((group) => this.commit(group));
  /** The first write that failed, for drain(): outcomes are not awaited one by one. */
  private failure?: unknown;

  constructor(
    private readonly connection: Connection,
    readonly owner: string = workerId(),
    /** How long a `sending` mark holds the reader: past the longest a message can wait for its answer. */
    private readonly sendingMs: number = SENDING_MS,
  ) {
    this.db = connection.db;
    this.sendingStatement = new CompiledOnce((slot) =>
      this.db
        .updateTable('send_journal')
        .set((eb) => ({
          state: 'sending' as const,
          attempts: eb('attempts', '+', 1),
          lease_until: slot('lease_until'),
          updated_at: slot('updated_at'),
          message_id: slot('message_id'),
          bounce_tag: slot('bounce_tag'),
        }))
        .where('issue', '=', slot('issue'))
        .where('email_key', '=', slot('key'))
        .where('lease_owner', '=', slot('owner'))
        .where('state', 'in', ['pending', 'deferred']),
    );
    this.outcomeStatement = new CompiledOnce((slot) =>
      this.db
        .updateTable('send_journal')
        .set({ state: slot('state') as JournalState, reply: slot('reply'), message_id: slot('message_id'), route: slot('route'), updated_at: slot('updated_at'), lease_owner: null, lease_until: null })
        .where('issue', '=', slot('issue'))
        .where('email_key', '=', slot('key'))
        .where('lease_owner', '=', slot('owner')),
    );
    // A retry within the run keeps the reader's lease: no other process takes it meanwhile.
    this.retryStatement = new CompiledOnce((slot) =>
      this.db
        .updateTable('send_journal')
        .set({ state: 'pending' as const, reply: slot('reply'), updated_at: slot('updated_at') })
        .where('issue', '=', slot('issue'))
        .where('email_key', '=', slot('key'))
        .where('lease_owner', '=', slot('owner')),
    );
  }

  /** Records that a send of this issue has begun; returns whether its audience was fully enqueued already. */
  async begin(issue: string, subject: string, now = new Date()): Promise<{ enqueued: boolean; completed: boolean; excluded: number }> {
    await this.db
      .insertInto('sends')
      .values({ issue, subject, started_at: now.toISOString(), enqueued_at: null, completed_at: null, excluded: 0 })
      .onConflict((conflict) => conflict.column('issue').doNothing())
      .execute();
    const row = await this.db.selectFrom('sends').selectAll().where('issue', '=', issue).executeTakeFirstOrThrow();
    return { enqueued: row.enqueued_at !== null, completed: row.completed_at !== null, excluded: Number(row.excluded) };
  }

  /** Adds readers as pending; a reader already in the journal for this issue is left as it is. */
  async enqueue(issue: string, readers: { email: string; key: string; name: string | null; attributes: Record<string, unknown> }[], now = new Date()) {
    if (!readers.length) return;
    const at = now.toISOString();
    await this.connection.transaction(async () => {
      const db = this.connection.db;
      // Chunks keep each statement under both databases' limits on bound parameters.
      for (let i = 0; i < readers.length; i += 500) {
        await db
          .insertInto('send_journal')
          .values(
            readers.slice(i, i + 500).map((reader) => ({
              issue,
              email_key: reader.key,
              email: reader.email,
              name: reader.name,
              attributes: JSON.stringify(reader.attributes ?? {}),
              state: 'pending' as const,
              attempts: 0,
              lease_owner: null,
              lease_until: null,
              message_id: null,
              reply: null,
              updated_at: at,
            })),
          )
          .onConflict((conflict) => conflict.columns(['issue', 'email_key']).doNothing())
          .execute();
      }
    });
  }

  async markEnqueued(issue: string, excluded: number, now = new Date()): Promise<void> {
    await this.db.updateTable('sends').set({ enqueued_at: now.toISOString(), excluded }).where('issue', '=', issue).where('enqueued_at', 'is', null).execute();
  }

  async markCompleted(issue: string, now = new Date()): Promise<void> {
    await this.db.updateTable('sends').set({ completed_at: now.toISOString() }).where('issue', '=', issue).where('completed_at', 'is', null).execute();
  }

  /**
   * Settles what dead workers left. Their claimed rows become claimable again; their `sending` rows
   * become `unknown`. A worker is dead when its lease has run out, or, on this host, when its
   * process no longer exists.
   */
  async recover(issue: string, now = new Date()): Promise<{ unknown: number; released: number }> {
    const at = now.toISOString();
    const owners = await this.db
      .selectFrom('send_journal')
      .select('lease_owner')
      .distinct()
      .where('issue', '=', issue)
      .where('lease_owner', 'is not', null)
      .where('lease_owner', '!=', this.owner)
      .execute();
    const dead = owners.map((row) => row.lease_owner!).filter((owner) => deadOnThisHost(owner));
    let unknown = 0;
    let released = 0;
    const lapsed = (query: any) =>
      query.where((eb: any) => eb.or([eb('lease_until', '<', at), ...(dead.length ? [eb('lease_owner', 'in', dead)] : [])]));
    unknown += Number(
      (
        await lapsed(
          this.db
            .updateTable('send_journal')
            .set({ state: 'unknown', lease_owner: null, lease_until: null, updated_at: at, reply: 'the sending process stopped before the route answered' })
            .where('issue', '=', issue)
            .where('state', '=', 'sending'),
        ).executeTakeFirst()
      ).numUpdatedRows,
    );
    released += Number(
      (
        await lapsed(
          this.db
            .updateTable('send_journal')
            .set({ lease_owner: null, lease_until: null })
            .where('issue', '=', issue)
            .where('state', 'in', ['pending', 'deferred'])
            .where('lease_owner', 'is not', null),
        ).executeTakeFirst()
      ).numUpdatedRows,
    );
    return { unknown, released };
  }

  /** `--retry-unknown`: the editor has checked and wants those readers tried again. */
  async retryUnknown(issue: string, now = new Date()): Promise<number> {
    const result = await this.db
      .updateTable('send_journal')
      .set({ state: 'pending', updated_at: now.toISOString() })
      .where('issue', '=', issue)
      .where('state', '=', 'unknown')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Takes up to `limit` readers to send to. On PostgreSQL, FOR UPDATE SKIP LOCKED lets several
   * processes claim side by side without waiting on or taking each other's rows; SQLite has one
   * writer at a time, which serialises claims by itself. Deferred readers are retried in a later
   * run, not in the one that deferred them.
   */
  async claim(issue: string, limit: number, runStarted: Date, now = new Date()): Promise<JournalEntry[]> {
    const at = now.toISOString();
    const until = new Date(now.getTime() + CLAIM_MS).toISOString();
    const lock = this.connection.kind === 'postgres' ? sql`FOR UPDATE SKIP LOCKED` : sql``;
    // Pending readers first, then deferred ones from earlier runs: each its own range of the index
    // on (issue, state, email_key), read in order and only as far as the limit.
    // The rows are picked in a CTE, evaluated once: with the pick as an IN (… LIMIT …) subquery of
    // the UPDATE, PostgreSQL took more rows than the limit (tests/delivery/journal.test.ts).
    const take = async (state: 'pending' | 'deferred', count: number) =>
      (
        await sql<JournalTable>`
          WITH picked AS (
            SELECT email_key FROM send_journal
            WHERE issue = ${issue} AND state = ${state}
              ${state === 'deferred' ? sql`AND updated_at < ${runStarted.toISOString()}` : sql``}
              AND (lease_owner IS NULL OR lease_until < ${at})
            ORDER BY email_key
            LIMIT ${count}
            ${lock}
          )
          UPDATE send_journal SET lease_owner = ${this.owner}, lease_until = ${until}
          WHERE issue = ${issue} AND email_key IN (SELECT email_key FROM picked)
          RETURNING email_key, email, name, attributes, attempts`.execute(this.connection.db)
      ).rows;
    const rows = await this.connection.transaction(async () => {
      const pending = await take('pending', limit);
      return pending.length < limit ? [...pending, ...(await take('deferred', limit - pending.length))] : pending;
    });
    return rows.map((row) => ({
      key: row.email_key,
      email: row.email,
      name: row.name,
      attributes: JSON.parse(row.attributes) as Record<string, unknown>,
      attempts: Number(row.attempts),
    }));
  }

  /**
   * Marks the reader `sending` and resolves once that is committed, before the message goes to
   * SMTP. Resolves false if this worker no longer holds the reader (its lease ran out and another
   * took it): then it must not send. The message's Message-ID is kept with the mark: should the
   * reader end up unknown, it is what to look for in the server's log.
   */
  markSending(issue: string, key: string, messageId?: string, now = new Date(), bounceTag?: string): Promise<boolean> {
    return this.writes.add({ kind: 'sending', issue, key, messageId: messageId ?? null, bounceTag: bounceTag ?? null, at: now });
  }

  /**
   * Records the outcome of an attempt, in the next group commit. The promise need not be awaited
   * (drain() waits for all and reports a failure): until it is written the reader stays `sending`,
   * which after a crash reads as `unknown`, so an outcome lost in a crash never causes a second copy.
   */
  settle(issue: string, key: string, state: Outcome, detail: { reply?: string; messageId?: string; route?: string }, now = new Date()): Promise<void> {
    const written = this.writes
      .add({ kind: 'outcome', issue, key, state, reply: detail.reply?.slice(0, 1000) ?? null, messageId: detail.messageId ?? null, route: detail.route ?? null, at: now })
      .then(() => undefined);
    written.catch((error: unknown) => (this.failure ??= error));
    return written;
  }

  /** Waits until every mark and outcome asked for so far is committed; throws the first that failed. */
  async drain(): Promise<void> {
    await this.writes.drain();
    if (this.failure) throw this.failure;
  }

  /**
   * One group in one transaction. Outcomes are written before marks; a reader is never in a group
   * twice (a retry's `pending` is awaited before its next mark is asked for).
   */
  private commit(group: JournalWrite[]): Promise<boolean[]> {
    if (this.connection.kind === 'postgres') return this.commitInOneStatement(group);
    // SQLite: statements on this thread cost microseconds and a commit no fsync (WAL, synchronous
    // NORMAL), so one compiled statement per write inside one transaction is as fast as anything.
    return this.connection.transaction(async () => {
      const db = this.connection.db;
      const results: boolean[] = [];
      for (const write of group) {
        const common = { updated_at: write.at.toISOString(), issue: write.issue, key: write.key, owner: this.owner };
        if (write.kind === 'sending') {
          const lease_until = new Date(write.at.getTime() + this.sendingMs).toISOString();
          results.push((await this.sendingStatement.run(db, { ...common, lease_until, message_id: write.messageId, bounce_tag: write.bounceTag })) === 1);
        } else if (write.state === 'pending') {
          results.push((await this.retryStatement.run(db, { ...common, reply: write.reply })) === 1);
        } else {
          results.push((await this.outcomeStatement.run(db, { ...common, state: write.state, reply: write.reply, message_id: write.messageId, route: write.route })) === 1);
        }
      }
      return results;
    });
  }

  /**
   * PostgreSQL: the whole group as one statement, so one round trip and one commit (one WAL flush)
   * however many writes it holds: the outcomes as one UPDATE from arrays, the marks as another, in
   * data-modifying CTEs (each runs to completion whether or not the query reads it). The marks
   * that took are returned.
   */
  private async commitInOneStatement(group: JournalWrite[]): Promise<boolean[]> {
    const outcomes = group.filter((write): write is Extract<JournalWrite, { kind: 'outcome' }> => write.kind === 'outcome');
    const marks = group.filter((write): write is Extract<JournalWrite, { kind: 'sending' }> => write.kind === 'sending');
    const issues = [...new Set(group.map((write) => write.issue))];
    if (issues.length > 1) {
      // One Journal serves one send at a time; should two issues ever meet here, each goes alone.
      const results = new Map<JournalWrite, boolean>();
      for (const issue of issues) {
        const part = group.filter((write) => write.issue === issue);
        (await this.commitInOneStatement(part)).forEach((result, index) => results.set(part[index]!, result));
      }
      return group.map((write) => results.get(write)!);
    }
    const issue = issues[0]!;
    const now = group.at(-1)!.at;
    const { rows } = await sql<{ email_key: string }>`
      WITH outcomes AS (
        UPDATE send_journal AS j
        SET state = o.state, reply = o.reply, message_id = o.message_id, route = o.route, updated_at = o.updated_at,
            lease_owner = CASE WHEN o.state = 'pending' THEN j.lease_owner END,
            lease_until = CASE WHEN o.state = 'pending' THEN j.lease_until END
        FROM unnest(${outcomes.map((o) => o.key)}::text[], ${outcomes.map((o) => o.state)}::text[], ${outcomes.map((o) => o.reply)}::text[],
                    ${outcomes.map((o) => o.messageId)}::text[], ${outcomes.map((o) => o.route)}::text[], ${outcomes.map((o) => o.at.toISOString())}::text[])
             AS o(email_key, state, reply, message_id, route, updated_at)
        WHERE j.issue = ${issue} AND j.email_key = o.email_key AND j.lease_owner = ${this.owner}
        RETURNING 1
      ), marks AS (
        UPDATE send_journal AS j
        SET state = 'sending', attempts = j.attempts + 1, updated_at = ${now.toISOString()}, message_id = m.message_id, bounce_tag = m.bounce_tag,
            lease_until = ${new Date(now.getTime() + this.sendingMs).toISOString()}
        FROM unnest(${marks.map((m) => m.key)}::text[], ${marks.map((m) => m.messageId)}::text[], ${marks.map((m) => m.bounceTag)}::text[]) AS m(email_key, message_id, bounce_tag)
        WHERE j.issue = ${issue} AND j.email_key = m.email_key
          AND j.lease_owner = ${this.owner} AND j.state IN ('pending', 'deferred')
        RETURNING j.email_key
      )
      SELECT email_key FROM marks`.execute(this.db);
    const took = new Set(rows.map((row) => row.email_key));
    return group.map((write) => (write.kind === 'sending' ? took.has(write.key) : true));
  }

  /** Gives back readers claimed but not attempted (`--limit` reached, or a stop). */
  async release(issue: string, keys: string[]): Promise<void> {
    if (!keys.length) return;
    await this.db
      .updateTable('send_journal')
      .set({ lease_owner: null, lease_until: null })
      .where('issue', '=', issue)
      .where('email_key', 'in', keys)
      .where('lease_owner', '=', this.owner)
      .where('state', 'in', ['pending', 'deferred'])
      .execute();
  }

  async counts(issue: string): Promise<StateCounts> {
    const rows = await this.db
      .selectFrom('send_journal')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .where('issue', '=', issue)
      .groupBy('state')
      .execute();
    const counts = emptyStateCounts();
    for (const row of rows) counts[row.state] = Number(row.n);
    return counts;
  }

  /**
   * Readers pending with nobody holding them: left for a later run (--limit, a stop, a lease given
   * back). Those that another live process holds are its to finish, not work left by this run.
   */
  async unreached(issue: string): Promise<number> {
    const row = await this.db
      .selectFrom('send_journal')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('issue', '=', issue)
      .where('state', '=', 'pending')
      .where('lease_owner', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** How many readers each route carried (sent), for a send that used more than one. */
  async routeCounts(issue: string): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('send_journal')
      .select(['route', (eb) => eb.fn.countAll<number>().as('n')])
      .where('issue', '=', issue)
      .where('state', '=', 'sent')
      .where('route', 'is not', null)
      .groupBy('route')
      .orderBy('route')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.route!, Number(row.n)]));
  }

  async issues(): Promise<SendsTable[]> {
    return this.db.selectFrom('sends').selectAll().orderBy('started_at', 'desc').execute();
  }

  async entries(issue: string, states: JournalState[]): Promise<{ email: string; state: JournalState; reply: string | null; attempts: number; message_id: string | null; route: string | null }[]> {
    return this.db
      .selectFrom('send_journal')
      .select(['email', 'state', 'reply', 'attempts', 'message_id', 'route'])
      .where('issue', '=', issue)
      .where('state', 'in', states)
      .orderBy('email_key')
      .execute();
  }

  async send(issue: string): Promise<SendsTable | undefined> {
    return this.db.selectFrom('sends').selectAll().where('issue', '=', issue).executeTakeFirst();
  }

  /** The states of these readers for an issue, for a plan that writes nothing. */
  async statesOf(issue: string, keys: string[]): Promise<Map<string, JournalState>> {
    if (!keys.length) return new Map();
    const rows = await this.db.selectFrom('send_journal').select(['email_key', 'state']).where('issue', '=', issue).where('email_key', 'in', keys).execute();
    return new Map(rows.map((row) => [row.email_key, row.state]));
  }
}

function deadOnThisHost(owner: string): boolean {
  const [host, pid] = owner.split(':');
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
