/**
 * The click counter's group commit, on SQLite and PostgreSQL: clicks counted together are one
 * transaction of UPSERTs that add to the rows already there; clicks that arrive during a write go in
 * the next; a batch the database refuses is kept and written later, or said to be lost at the end.
 */
import { describe, expect, test } from 'vitest';
import type { SubscriberStore } from '../../src/audience/store.js';
import { ClickCounter } from '../../src/tracking/counter.js';
import { onEachDatabase, storeOpener } from '../audience/databases.js';

/** Counts the counter's transactions, and can make the next ones fail. */
function instrument(store: SubscriberStore) {
  const connection = store.dialect as { transaction: (work: () => Promise<unknown>) => Promise<unknown> };
  const real = connection.transaction.bind(connection);
  const state = { writes: 0, failing: 0 };
  connection.transaction = (work) => {
    state.writes++;
    if (state.failing > 0) {
      state.failing--;
      return Promise.reject(new Error('the database went away (a test failure)'));
    }
    return real(work);
  };
  return state;
}

async function rows(store: SubscriberStore) {
  const links = await store.dialect.db.selectFrom('link_clicks').selectAll().orderBy('issue').orderBy('url').execute();
  const readers = await store.dialect.db.selectFrom('reader_clicks').selectAll().orderBy('email_key').execute();
  return { links: links.map((row) => ({ ...row, clicks: Number(row.clicks) })), readers: readers.map((row) => ({ ...row, clicks: Number(row.clicks) })) };
}

const t = (seconds: number) => new Date(Date.UTC(2024, 2, 8, 9, 0, seconds));

onEachDatabase((target) => {
  describe('the click counter', () => {
    const open = storeOpener(target);

    test('clicks counted together are written in one transaction, summed per link, issue and reader', async () => {
      const store = await open();
      const state = instrument(store);
      const counter = new ClickCounter(store.dialect, { rowsPerStatement: 7 });
      for (let i = 0; i < 1000; i++) counter.count(i % 3 ? 'week-10' : 'week-11', `https://x.example/${i % 10}`, i % 2 ? `reader${i % 4}@example.org` : undefined, t(i % 60));
      await counter.flush();
      expect(state.writes).toBe(1);
      const { links, readers } = await rows(store);
      expect(links.reduce((sum, row) => sum + row.clicks, 0)).toBe(1000);
      expect(links).toHaveLength(20);
      expect(readers.reduce((sum, row) => sum + row.clicks, 0)).toBe(500);
      expect(new Set(readers.map((row) => row.email_key))).toEqual(new Set(['reader1@example.org', 'reader3@example.org']));
      const first = links.find((row) => row.issue === 'week-11' && row.url === 'https://x.example/0')!;
      expect(first.clicks).toBe(34);
      expect(first.first_at).toBe(t(0).toISOString());
    });

    test('a later batch adds to the rows: clicks summed, first_at kept, last_at moved on', async () => {
      const store = await open();
      const counter = new ClickCounter(store.dialect);
      counter.count('week-10', 'https://x.example/a', 'ana@example.org', t(1));
      counter.count('week-10', 'https://x.example/a', undefined, t(2));
      await counter.flush();
      counter.count('week-10', 'https://x.example/a', 'ana@example.org', t(30));
      await counter.flush();
      const { links, readers } = await rows(store);
      expect(links).toEqual([{ issue: 'week-10', url: 'https://x.example/a', clicks: 3, first_at: t(1).toISOString(), last_at: t(30).toISOString() }]);
      expect(readers).toEqual([{ issue: 'week-10', url: 'https://x.example/a', email_key: 'ana@example.org', clicks: 2, first_at: t(1).toISOString(), last_at: t(30).toISOString() }]);
    });

    test('clicks that arrive while a batch is written go together in the next', async () => {
      const store = await open();
      const state = instrument(store);
      const counter = new ClickCounter(store.dialect);
      counter.count('week-10', 'https://x.example/a');
      // The first batch starts on the next turn of the event loop; these arrive while it is written.
      await new Promise((resolve) => setImmediate(resolve));
      for (let i = 0; i < 50; i++) counter.count('week-10', 'https://x.example/a');
      await counter.flush();
      expect(state.writes).toBe(2);
      expect((await rows(store)).links.map((row) => row.clicks)).toEqual([51]);
    });

    test('a batch the database refuses is kept, joined by later clicks, and written when it answers again', async () => {
      const store = await open();
      const state = instrument(store);
      const logs: Record<string, unknown>[] = [];
      const counter = new ClickCounter(store.dialect, { retryMs: 20, log: (entry) => logs.push(entry) });
      state.failing = 2;
      counter.count('week-10', 'https://x.example/a', 'ana@example.org');
      await new Promise((resolve) => setTimeout(resolve, 5));
      counter.count('week-10', 'https://x.example/a');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(state.failing).toBe(0);
      expect(logs.map((entry) => entry.msg)).toEqual(['click counts not written, kept to try again', 'click counts not written, kept to try again']);
      expect(logs[1]).toMatchObject({ level: 'error', clicks: 2 });
      expect((await rows(store)).links.map((row) => row.clicks)).toEqual([2]);
      expect((await rows(store)).readers.map((row) => row.clicks)).toEqual([1]);
      await counter.flush();
    });

    test('flush writes at once what waits for a retry; past maxPending clicks are dropped, and said to be', async () => {
      const store = await open();
      const state = instrument(store);
      const logs: Record<string, unknown>[] = [];
      const counter = new ClickCounter(store.dialect, { retryMs: 60_000, maxPending: 3, log: (entry) => logs.push(entry) });
      state.failing = 1;
      counter.count('week-10', 'https://x.example/a');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(logs.map((entry) => entry.msg)).toEqual(['click counts not written, kept to try again']);
      for (const page of ['b', 'c', 'd', 'e']) counter.count('week-10', `https://x.example/${page}`);
      counter.count('week-10', 'https://x.example/a');
      await counter.flush();
      expect((await rows(store)).links.map((row) => [row.url, row.clicks])).toEqual([
        ['https://x.example/a', 2],
        ['https://x.example/b', 1],
        ['https://x.example/c', 1],
      ]);
      expect(logs.at(-1)).toMatchObject({ level: 'error', msg: 'click counts dropped while the database was failing', dropped: 2 });
    });

    test('what the database still refuses when flushed is said to be lost', async () => {
      const store = await open();
      const state = instrument(store);
      const logs: Record<string, unknown>[] = [];
      const counter = new ClickCounter(store.dialect, { retryMs: 60_000, log: (entry) => logs.push(entry) });
      state.failing = 2;
      counter.count('week-10', 'https://x.example/z');
      counter.count('week-10', 'https://x.example/z', 'ana@example.org');
      await counter.flush();
      expect(logs.map((entry) => entry.msg)).toEqual(['click counts not written, kept to try again', 'click counts lost: the database refused them']);
      expect(logs[1]).toMatchObject({ level: 'error', clicks: 2 });
      expect(await rows(store)).toEqual({ links: [], readers: [] });
    });
  });
});
