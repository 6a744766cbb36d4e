import type { Connection } from '../db/connection.js';

interface Tally {
  issue: string;
  url: string;
  emailKey?: string;
  clicks: number;
  first: string;
  last: string;
}

export interface CounterOptions {
  /** Rows per statement: well under SQLite's limit of bound values, and PostgreSQL's. */
  rowsPerStatement?: number;
  /** How long to wait before writing again after the database refused a batch. */
  retryMs?: number;
  /** Rows waiting at most (only reached while the database is failing): clicks for new rows beyond it are dropped, and said. */
  maxPending?: number;
  log?: (entry: Record<string, unknown>) => void;
}

/**
 * Group commit for click counts. The redirect never waits for the database: each click is added to
 * a tally in memory, keyed by issue and URL (and reader), and while one transaction writes, the
 * clicks that arrive meanwhile add up for the next. A burst of a thousand clicks on one link costs
 * one UPSERT of `clicks + 1000`, not a thousand writes, and a lone click is written on the next turn
 * of the event loop.
 * A batch the database refuses is kept and tried again; `flush()` writes whatever is held.
 */
export class ClickCounter {
  private pending = new Map<string, Tally>();
  /** Clicks in `pending`, counted once each (a reader's tally repeats its link's). */
  private held = 0;
  /** Clicks given up on since it was last said, the database failing for long. */
  private dropped = 0;
  private running?: Promise<void>;
  private retry?: NodeJS.Timeout;
  private readonly rowsPerStatement: number;
  private readonly retryMs: number;
  private readonly maxPending: number;
  private readonly log: (entry: Record<string, unknown>) => void;

  constructor(
    private readonly connection: Connection,
    options: CounterOptions = {},
  ) {
    this.rowsPerStatement = options.rowsPerStatement ?? 200;
    this.retryMs = options.retryMs ?? 1000;
    this.maxPending = options.maxPending ?? 100_000;
    this.log = options.log ?? (() => {});
  }

  /** One click on `url` in `issue`; with `emailKey`, also counted for that reader. */
  count(issue: string, url: string, emailKey?: string, at = new Date()): void {
    const when = at.toISOString();
    this.add({ issue, url, clicks: 1, first: when, last: when });
    if (emailKey !== undefined) this.add({ issue, url, emailKey, clicks: 1, first: when, last: when });
    this.kick();
  }

  /** Resolves once every click counted so far is written or, the database failing, said to be lost. */
  async flush(): Promise<void> {
    for (;;) {
      clearTimeout(this.retry);
      this.retry = undefined;
      if (this.running) await this.running;
      else if (this.pending.size) await (this.running = this.drain(true).finally(() => (this.running = undefined)));
      else return;
    }
  }

  private kick(): void {
    if (this.running || this.retry || !this.pending.size) return;
    // After the requests already read have had their turn: they join this batch, rather than each
    // waiting for a transaction of its own (SQLite's writes do not yield to the event loop).
    this.running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain(false))
      .finally(() => {
        this.running = undefined;
        this.kick();
      });
  }

  private add(tally: Tally): void {
    const key = tally.emailKey === undefined ? `${tally.issue}\0${tally.url}` : `${tally.issue}\0${tally.url}\0${tally.emailKey}`;
    const found = this.pending.get(key);
    if (found) {
      found.clicks += tally.clicks;
      if (tally.first < found.first) found.first = tally.first;
      if (tally.last > found.last) found.last = tally.last;
    } else if (this.pending.size >= this.maxPending) {
      // Only while writes fail: memory stays bounded, and the loss is said, not silent.
      if (tally.emailKey === undefined) this.dropped += tally.clicks;
      return;
    } else {
      this.pending.set(key, { ...tally });
    }
    if (tally.emailKey === undefined) this.held += tally.clicks;
  }

  /** Writes what is pending, batch after batch, until nothing is; a failed batch is kept for a retry (or, `last`, given up). */
  private async drain(last: boolean): Promise<void> {
    while (this.pending.size) {
      const batch = [...this.pending.values()];
      const clicks = this.held;
      this.pending = new Map();
      this.held = 0;
      let failure: Error | undefined;
      try {
        await this.write(batch);
      } catch (error) {
        failure = error as Error;
      }
      const dropped = this.dropped;
      this.dropped = 0;
      const said = { time: new Date().toISOString(), level: 'error', ...(dropped ? { dropped } : {}) };
      if (!failure) {
        if (dropped) this.log({ ...said, msg: 'click counts dropped while the database was failing' });
        continue;
      }
      if (last) {
        this.log({ ...said, msg: 'click counts lost: the database refused them', clicks, error: failure.message });
        return;
      }
      this.log({ ...said, msg: 'click counts not written, kept to try again', clicks, error: failure.message });
      for (const tally of batch) this.add(tally);
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.kick();
      }, this.retryMs);
      this.retry.unref();
      return;
    }
  }

  private async write(batch: Tally[]): Promise<void> {
    const links = batch.filter((tally) => tally.emailKey === undefined);
    const readers = batch.filter((tally) => tally.emailKey !== undefined);
    await this.connection.transaction(async () => {
      const { db } = this.connection;
      for (let start = 0; start < links.length; start += this.rowsPerStatement) {
        const rows = links.slice(start, start + this.rowsPerStatement).map((t) => ({ issue: t.issue, url: t.url, clicks: t.clicks, first_at: t.first, last_at: t.last }));
        await db
          .insertInto('link_clicks')
          .values(rows)
          .onConflict((conflict) =>
            conflict.columns(['issue', 'url']).doUpdateSet((eb) => ({
              clicks: eb('link_clicks.clicks', '+', eb.ref('excluded.clicks')),
              last_at: eb.ref('excluded.last_at'),
            })),
          )
          .execute();
      }
      for (let start = 0; start < readers.length; start += this.rowsPerStatement) {
        const rows = readers
          .slice(start, start + this.rowsPerStatement)
          .map((t) => ({ issue: t.issue, url: t.url, email_key: t.emailKey!, clicks: t.clicks, first_at: t.first, last_at: t.last }));
        await db
          .insertInto('reader_clicks')
          .values(rows)
          .onConflict((conflict) =>
            conflict.columns(['issue', 'url', 'email_key']).doUpdateSet((eb) => ({
              clicks: eb('reader_clicks.clicks', '+', eb.ref('excluded.clicks')),
              last_at: eb.ref('excluded.last_at'),
            })),
          )
          .execute();
      }
    });
  }
}
