import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { CopyPipeline, DiscardedCopy } from '../../../src/audience/sql/copy-pipeline.js';
import { failOnWarnings } from '../../helpers.js';
import { PG_URL, pgUnavailable } from '../databases.js';

/** Rows k{from}…k{to - 1} in COPY's text, as one piece. */
const lines = (from: number, to: number) => Buffer.from(Array.from({ length: to - from }, (_, i) => `k${from + i}\tname ${from + i}\n`).join(''));

describe.skipIf(Boolean(pgUnavailable))('copies sent one after another without waiting for the server (CopyPipeline)', () => {
  failOnWarnings();
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
  beforeEach(async () => {
    await client.query('TRUNCATE t');
  });
  const start = (held = false) => {
    const pipeline = new CopyPipeline('COPY t (k, name) FROM STDIN', 's', held);
    client.query(pipeline as never);
    return pipeline;
  };
  const count = async () => (await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n as number;

  test('every slice goes in, each settling once its COPY completes, and end() settles at the server’s answer', async () => {
    await client.query('BEGIN');
    const pipeline = start();
    const copies = [pipeline.push([lines(0, 1000), lines(1000, 1500)]), pipeline.push([lines(1500, 3000)])];
    await copies[0];
    copies.push(pipeline.push([lines(3000, 3001)]));
    await Promise.all(copies);
    await pipeline.end();
    // The connection is free again, inside the same transaction.
    expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(3001);
    await client.query('COMMIT');
    expect(await count()).toBe(3001);
  });

  test('a failed copy rejects with its error and those behind it as discarded; rolled back to its savepoint, the copies before it stay', async () => {
    await client.query('BEGIN');
    const pipeline = start();
    const first = pipeline.push([lines(0, 100)]);
    // k50 is in the first copy already: the second fails, and the third is discarded unread.
    const second = pipeline.push([lines(100, 200), lines(50, 51)]);
    const third = pipeline.push([lines(200, 300)]);
    await first;
    await expect(second).rejects.toMatchObject({ code: '23505' });
    const discarded = await third.catch((error: unknown) => error);
    expect(discarded).toBeInstanceOf(DiscardedCopy);
    expect((discarded as DiscardedCopy).cause).toMatchObject({ code: '23505' });
    await expect(pipeline.push([lines(300, 301)])).rejects.toMatchObject({ code: '23505' });
    // Settled once the server has answered the Sync: pg is free for the rollback.
    await expect(pipeline.finished).rejects.toMatchObject({ code: '23505' });
    await expect(pipeline.end()).rejects.toMatchObject({ code: '23505' });

    await client.query('ROLLBACK TO SAVEPOINT s');
    // The transaction goes on, in a new pipeline whose first copy releases the savepoint it holds.
    const next = start(true);
    await next.push([lines(100, 200)]);
    await next.end();
    await client.query('COMMIT');
    expect(await count()).toBe(200);
  });

  test('a failure other than a copy’s rejects the same way, and the connection stays usable', async () => {
    // No savepoint can be released outside a transaction block: the first statement fails.
    const pipeline = start(true);
    await expect(pipeline.push([lines(0, 10)])).rejects.toThrow(/savepoint/i);
    await expect(pipeline.end()).rejects.toThrow(/savepoint/i);
    expect(await count()).toBe(0);
  });

  test('slices pushed, and the end asked for, before pg hands over the connection are sent when it does', async () => {
    await client.query('BEGIN');
    const pipeline = new CopyPipeline('COPY t (k, name) FROM STDIN', 's', false);
    const copies = [pipeline.push([lines(0, 10)]), pipeline.push([lines(10, 20)])];
    const ended = pipeline.end();
    client.query(pipeline as never);
    await Promise.all(copies);
    await ended;
    await client.query('COMMIT');
    expect(await count()).toBe(20);
  });
});
