import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PipelinedCopy } from '../../../src/audience/sql/pipelined-copy.js';
import { PG_URL, pgUnavailable } from '../databases.js';

const lines = (from: number, to: number) => Buffer.from(Array.from({ length: to - from }, (_, i) => `k${from + i}\tname ${from + i}\n`).join(''));

describe.skipIf(Boolean(pgUnavailable))('a COPY whose rows go out with its query', () => {
  const schema = `digest_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: PG_URL });
  beforeAll(async () => {
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}; SET search_path = ${schema}; CREATE TABLE t (k TEXT PRIMARY KEY, name TEXT)`);
  });
  afterAll(async () => {
    await client.query(`DROP SCHEMA ${schema} CASCADE`);
    await client.end();
  });
  const copy = (text: string, pieces: Buffer[]) => {
    const query = new PipelinedCopy(text, pieces);
    client.query(query as never);
    return query.done;
  };

  test('writes every piece, with statements before the COPY in the same query', async () => {
    await client.query('BEGIN');
    await copy('SAVEPOINT s; COPY t (k, name) FROM STDIN', [lines(0, 1000), lines(1000, 2500)]);
    await client.query('COMMIT');
    expect((await client.query('SELECT count(*)::int AS n, max(name) AS last FROM t')).rows[0]).toEqual({ n: 2500, last: 'name 999' });
  });

  test('a row that breaks a constraint rejects with its error, and the connection goes on with the rows after it discarded', async () => {
    await client.query('BEGIN');
    await client.query('SAVEPOINT s');
    // k5 is stored: the COPY fails on the first piece, and the second arrives after the error.
    await expect(copy('COPY t (k, name) FROM STDIN', [lines(5, 6), lines(90_000, 95_000)])).rejects.toMatchObject({ code: '23505' });
    await client.query('ROLLBACK TO SAVEPOINT s');
    await copy('RELEASE SAVEPOINT s; SAVEPOINT s; COPY t (k, name) FROM STDIN', [lines(3000, 3010)]);
    await client.query('COMMIT');
    expect((await client.query("SELECT count(*)::int AS n FROM t WHERE k LIKE 'k9%' AND length(k) = 6")).rows[0].n).toBe(0);
    expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(2510);
  });

  test('a statement that fails before the COPY starts rejects, and its rows are ignored', async () => {
    await expect(copy('RELEASE SAVEPOINT nowhere; COPY t (k, name) FROM STDIN', [lines(4000, 4100)])).rejects.toThrow(/savepoint/i);
    expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(2510);
  });
});
