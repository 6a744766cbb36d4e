import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { openStore } from '../../../src/audience/open.js';
import type { SubscriberStore } from '../../../src/audience/store.js';
import { tempDir } from '../databases.js';

describe('a SQLite store whose imports write on a thread of their own', () => {
  const open: SubscriberStore[] = [];
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });
  const pair = async () => {
    const url = `sqlite:${join(await tempDir(), 'digest.db')}`;
    const bulk = await openStore(url, { bulk: true, create: true });
    const plain = await openStore(url);
    open.push(bulk, plain);
    return { bulk, plain };
  };

  test('writes what another connection then reads, slices and all', async () => {
    const { bulk, plain } = await pair();
    expect(bulk.pipelined).toBe(true);
    const slices = [0, 1, 2].map((slice) => Array.from({ length: 300 }, (_, i) => ({ email: `r${slice}-${i}@example.com`, international: false })));
    const outcomes = await bulk.upsertSlices(slices, { source: 'import:digest' });
    expect(outcomes.flat().filter((outcome) => outcome === 'imported')).toHaveLength(900);
    expect(await plain.count()).toMatchObject({ total: 900, subscribed: 900 });
    // A second pass finds every address stored: merged, not duplicated.
    const again = await bulk.upsertSlices(slices, { source: 'import:digest' });
    expect(again.flat().every((outcome) => outcome === 'unchanged')).toBe(true);
  });

  test('a failure on the writer thread comes back as the error SQLite gave, and its transaction is undone', async () => {
    const { bulk, plain } = await pair();
    const batch = [
      { email: 'ann@example.com', international: false },
      { email: 'bob@example.com', international: false, status: 'gone' as never },
    ];
    await expect(bulk.upsert(batch, { source: 'cli' })).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_CHECK' });
    expect(await plain.count()).toMatchObject({ total: 0 });
    // The thread's connection is out of the failed transaction and takes the next one.
    expect(await bulk.upsert([batch[0]!], { source: 'cli' })).toEqual(['imported']);
    expect(await plain.get('ann@example.com')).toMatchObject({ status: 'subscribed' });
  });
});
