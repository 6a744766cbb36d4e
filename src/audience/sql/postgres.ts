import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { sql } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { openPostgresPool, PostgresConnection } from '../../db/postgres.js';
import type { SubscribersTable } from '../../db/schema.js';
import { CopyPipeline, DiscardedCopy } from './copy-pipeline.js';
import type { Subscriber } from '../store.js';
import type { Dialect, PreparedRows } from './dialect.js';
import { ownValues, sameSharedValues, sharedValues, subscriberFromRow, writtenColumns, type WrittenRow } from './rows.js';

/**
 * PostgreSQL through pg (the connection, its migrations and transactions: src/db/postgres.ts). A
 * batch is written by COPY into a temporary staging table, then merged into subscribers by one
 * INSERT … ON CONFLICT and one UPDATE … FROM: a handful of round trips per 10,000 subscribers, and
 * no per-row statements.
 */
export async function openPostgres(url: string, shown: string): Promise<Dialect> {
  return new PostgresStoreDialect(await openPostgresPool(url, shown));
}

/** The staging table a batch is copied into; temporary, so each connection has its own. */
const STAGE = 'digest_import_stage';
const stageColumns = writtenColumns.map((column) => `${column} ${column === 'international' ? 'BOOLEAN' : 'TEXT'}`).join(', ');
/** Roughly the chunk size the COPY stream is fed in. */
const COPY_CHUNK = 64 * 1024;

class PostgresStoreDialect extends PostgresConnection<ImportState> implements Dialect {
  /** Slices of new rows in flight at once (see CopyPipeline): one with the server, one queued behind it. */
  readonly copiesInFlight = 2;

  /** Anything else on the transaction's connection waits out the copies being sent. */
  protected override connectionIdle(): Promise<void> {
    return this.copiesEnded();
  }

  async existing(keys: string[]): Promise<Map<string, Subscriber>> {
    const found = new Map<string, Subscriber>();
    if (keys.length === 0) return found;
    // One probe of the unique index per key, forced by a LATERAL subquery the planner cannot flatten
    // (LIMIT 1): with `= ANY(array)` or a plain join it chose to scan the whole table each batch while
    // the table had no statistics yet, which made a large first import quadratic.
    const { rows } = await sql<SubscribersTable>`SELECT s.* FROM unnest(${keys}::text[]) AS k(key),
      LATERAL (SELECT * FROM subscribers WHERE email_key = k.key LIMIT 1 FOR UPDATE) AS s`.execute(this.db);
    for (const row of rows) found.set(row.email_key, subscriberFromRow(row));
    return found;
  }

  async anyErased(): Promise<boolean> {
    // Asked once per transaction: an import's transaction runs several upserts, and a round trip each is not free.
    if (this.open?.anyErased !== undefined) return this.open.anyErased;
    if (!this.open) {
      const { rows } = await sql<{ any: boolean }>`SELECT EXISTS (SELECT 1 FROM erased_addresses) AS any`.execute(this.db);
      return Boolean(rows[0]?.any);
    }
    // Locked until the transaction ends, so that a `remove` cannot commit between this answer and
    // our writes (it waits, then deletes what we wrote); imports do not block one another.
    await this.copiesEnded();
    const results = (await this.open.client.query(
      'LOCK TABLE erased_addresses IN SHARE MODE; SELECT EXISTS (SELECT 1 FROM erased_addresses) AS any',
    )) as unknown as Array<pg.QueryResult<{ any: boolean }>>;
    this.open.anyErased = Boolean(results[1]?.rows[0]?.any);
    return this.open.anyErased;
  }

  async erased(hashes: string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const { rows } = await sql<{ hash: string }>`SELECT e.hash FROM unnest(${hashes}::text[]) AS k(hash) JOIN erased_addresses AS e ON e.hash = k.hash`.execute(this.db);
    return new Set(rows.map((row) => row.hash));
  }

  async write(inserts: WrittenRow[], updates: WrittenRow[], now: string): Promise<void> {
    if (inserts.length === 0 && updates.length === 0) return;
    await this.transaction(async () => {
      await this.copiesEnded();
      const { client } = this.open!;
      const columns = writtenColumns.join(', ');
      const stamp = copyText(now);
      let staged = updates.length > 0;
      if (inserts.length > 0) {
        // New subscribers are copied straight into the table. Should another process have added one
        // of these addresses since our lookup, the COPY fails on the unique key, and the batch takes
        // the staged path below instead, where the other process's row stands.
        await client.query('SAVEPOINT digest_copy');
        try {
          await copyRows(client, `COPY subscribers (${columns}, created_at, updated_at) FROM STDIN`, [{ rows: inserts, after: `\t${stamp}\t${stamp}` }]);
          await client.query('RELEASE SAVEPOINT digest_copy');
          inserts = [];
        } catch (error) {
          if ((error as { code?: string }).code !== '23505') throw error;
          await client.query('ROLLBACK TO SAVEPOINT digest_copy');
          staged = true;
        }
      }
      if (!staged) return;
      await client.query(`CREATE TEMPORARY TABLE IF NOT EXISTS ${STAGE} (op "char" NOT NULL, ${stageColumns})`);
      await copyRows(client, `COPY ${STAGE} (op, ${columns}) FROM STDIN`, [
        { rows: inserts, before: 'i\t' },
        { rows: updates, before: 'u\t' },
      ]);
      const literal = client.escapeLiteral(now);
      const assignments = writtenColumns.filter((column) => column !== 'email_key').map((column) => `${column} = u.${column}`).join(', ');
      await client.query(`
        INSERT INTO subscribers (${columns}, created_at, updated_at)
          SELECT ${columns}, ${literal}, ${literal} FROM ${STAGE} WHERE op = 'i'
          ON CONFLICT (email_key) DO NOTHING;
        UPDATE subscribers AS s SET ${assignments}, updated_at = ${literal}
          FROM ${STAGE} AS u WHERE u.op = 'u' AND s.email_key = u.email_key;
        DELETE FROM ${STAGE}`);
    });
  }

  prepareNew(rows: WrittenRow[], now: string): PreparedRows {
    const stamp = copyText(now);
    return { count: rows.length, pieces: encodeNewRows(rows, stamp) } as EncodedRows;
  }

  copyNew(rows: PreparedRows): Promise<boolean> {
    const open = this.open;
    if (!open) throw new Error('copyNew runs inside a transaction');
    if (!open.copies) {
      const pipeline = new CopyPipeline(`COPY subscribers (${newRowColumns.join(', ')}) FROM STDIN`, COPY_SAVEPOINT, open.savepoint ?? false);
      open.client.query(pipeline as never);
      open.copies = { pipeline };
    }
    const copies = open.copies;
    open.savepoint = true;
    return copies.pipeline.push((rows as EncodedRows).pieces).then(
      () => true,
      async (error: unknown) => {
        // A stored address (unique_violation), or another writer's uncommitted row we deadlocked
        // on, or a copy discarded behind such a one: nothing of these copies is left once the
        // failed one's savepoint is rolled back to (once for all of them), and the caller merges
        // their rows the general way.
        if (!recoverable(error)) throw error;
        await this.recover(copies);
        return false;
      },
    );
  }

  /**
   * After a failed copy: once the server has answered (see CopyPipeline.handleError), the
   * transaction back to the savepoint before it; only then may the next copy start a new pipeline
   * or anything else run on the connection. Once per pipeline, however many of its copies failed.
   */
  private recover(copies: Copies): Promise<void> {
    const open = this.open!;
    copies.recovered ??= (async () => {
      await copies.pipeline.finished.catch(() => {});
      await open.client.query(`ROLLBACK TO SAVEPOINT ${COPY_SAVEPOINT}`);
      if (open.copies === copies) open.copies = undefined;
    })();
    return copies.recovered;
  }

  /** Lets the copies in flight finish (or fail, and be rolled back) before anything else runs on the transaction's connection. */
  private async copiesEnded(): Promise<void> {
    const copies = this.open?.copies;
    if (!copies) return;
    try {
      await copies.pipeline.end();
      if (this.open?.copies === copies) this.open.copies = undefined;
    } catch (error) {
      // A failed copy is rolled back (which its caller asks for too); any other failure is the
      // caller's to report, from the copy it awaits.
      if (!recoverable(error)) throw error;
      await this.recover(copies);
    }
  }

  hasTag(tag: string) {
    return sql<boolean>`jsonb_exists(subscribers.tags::jsonb, ${tag})`;
  }
}

/**
 * Whether a copy failed because an address was stored already (unique_violation), or because it
 * deadlocked on another writer's uncommitted row, or was discarded behind such a copy: then its
 * rows can go the general way.
 */
function recoverable(error: unknown): boolean {
  const code = ((error instanceof DiscardedCopy ? error.cause : error) as { code?: string }).code;
  return code === '23505' || code === '40P01';
}

/**
 * What an import keeps with its transaction (src/db/postgres.ts holds the connection and kysely):
 * the answer of anyErased, whether it holds the copies' savepoint, and the copies being sent, which
 * anything else on the connection waits out.
 */
interface ImportState {
  anyErased?: boolean;
  savepoint?: boolean;
  copies?: Copies;
}

/** The savepoint each copy of new rows goes in behind. */
const COPY_SAVEPOINT = 'digest_copy_new';

/** The copies of the open transaction: the pipeline they go through, and the rollback after one failed. */
interface Copies {
  pipeline: CopyPipeline;
  recovered?: Promise<void>;
}

/** Rows to copy, each framed by `before` and `after` (already in COPY's text format). */
interface CopyGroup {
  rows: WrittenRow[];
  before?: string;
  after?: string;
}

/** Rows as COPY's text, in pieces of about 64 KiB: each is one CopyData message, which the server reads whole before it parses it. */
interface EncodedRows extends PreparedRows {
  pieces: Buffer[];
}

/**
 * COPY's text gathered line by line into pieces of about COPY_CHUNK, as Buffers: outside V8's heap,
 * so holding them costs the collector nothing. Lines are joined once a piece is full, not appended
 * value by value: every `+=` on a long text is another object for the collector.
 */
class CopyPieces {
  readonly pieces: Buffer[] = [];
  private lines: string[] = [];
  private size = 0;

  add(line: string): void {
    this.lines.push(line);
    this.size += line.length;
    if (this.size >= COPY_CHUNK) this.flush();
  }

  finish(): Buffer[] {
    this.flush();
    return this.pieces;
  }

  private flush(): void {
    if (this.lines.length === 0) return;
    this.pieces.push(Buffer.from(this.lines.join('')));
    this.lines = [];
    this.size = 0;
  }
}

/** Rows in COPY's text format, each framed by its group's `before` and `after`. */
function encodeRows(groups: CopyGroup[]): Buffer[] {
  const pieces = new CopyPieces();
  for (const { rows, before = '', after = '' } of groups) {
    for (const row of rows) {
      let line = before + copyText(row[0]);
      for (let index = 1; index < row.length; index++) line += `\t${copyText(row[index] as WrittenRow[number])}`;
      pieces.add(`${line}${after}\n`);
    }
  }
  return pieces.finish();
}

/** The columns of encodeNewRows: the row's own values first, then those it may share with the rows before it. */
const newRowColumns: string[] = [...[...ownValues, ...sharedValues].map((index) => writtenColumns[index]!), 'created_at', 'updated_at'];

/**
 * New rows as COPY's text, with the columns in newRowColumns' order: the text of the shared values
 * is made once for each run of rows that agree on them, and the rest of a row is four values.
 */
function encodeNewRows(rows: WrittenRow[], stamp: string): Buffer[] {
  const pieces = new CopyPieces();
  let shared = '';
  let before: WrittenRow | undefined;
  for (const row of rows) {
    if (!before || !sameSharedValues(row, before)) {
      shared = '';
      for (const index of sharedValues) shared += `\t${copyText(row[index])}`;
      shared += `\t${stamp}\t${stamp}\n`;
    }
    before = row;
    pieces.add(`${copyText(row[0])}\t${copyText(row[1])}\t${copyText(row[2])}\t${copyText(row[4])}${shared}`);
  }
  return pieces.finish();
}

/** Streams rows to COPY … FROM STDIN, waiting whenever the socket is full. */
async function copyRows(client: pg.PoolClient, statement: string, groups: CopyGroup[]): Promise<void> {
  const stream = client.query(copyFrom(statement));
  const done = finished(stream);
  done.catch(() => {});
  for (const piece of encodeRows(groups)) {
    if (!stream.write(piece)) await Promise.race([once(stream, 'drain'), done]);
  }
  stream.end();
  await done;
}

/** A value in COPY's text format: \N for null, and backslash, tab and line breaks escaped. */
function copyText(value: string | boolean | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, escapeCopy) : value;
}

const copyEscapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escapeCopy = (char: string) => copyEscapes[char]!;
