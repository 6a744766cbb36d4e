import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { openStore } from '../../../src/audience/open.js';
import type { WrittenRow } from '../../../src/audience/sql/rows.js';
import { SqliteWrites } from '../../../src/audience/sql/sqlite-writes.js';
import { tempDir } from '../databases.js';

const now = '2026-11-25T10:00:00.000Z';
const row = (email: string, status = 'subscribed'): WrittenRow => [email, email, `Name ${email}`, status, '["weekly"]', '{}', false, 'import:csv', now, null, null];

/** A migrated database file and the writes over a handle of its own, as the writer thread has them. */
async function writes() {
  const file = join(await tempDir(), 'digest.db');
  await (await openStore(`sqlite:${file}`, { create: true })).close();
  const handle = new BetterSqlite3(file);
  return { handle, writes: new SqliteWrites(handle), count: () => (handle.prepare('SELECT count(*) AS n FROM subscribers').get() as { n: number }).n };
}

describe('copies of new rows into SQLite, a block of rows per statement', () => {
  test('all go in, in blocks and one by one, whatever runs of shared values they come in', async () => {
    const { handle, writes: w, count } = await writes();
    // 120 alike (two blocks and 20 left), 7 unsubscribed, 60 alike again.
    const rows = [
      ...Array.from({ length: 120 }, (_, i) => row(`a${i}@example.com`)),
      ...Array.from({ length: 7 }, (_, i) => row(`b${i}@example.com`, 'unsubscribed')),
      ...Array.from({ length: 60 }, (_, i) => row(`c${i}@example.com`)),
    ];
    handle.exec('BEGIN');
    expect(w.copyNew(rows.map((r) => [...r] as WrittenRow), now)).toBe(true);
    handle.exec('COMMIT');
    expect(count()).toBe(187);
    const stored = handle.prepare('SELECT email, name, status, created_at FROM subscribers WHERE email_key = ?');
    expect(stored.get('a77@example.com')).toEqual({ email: 'a77@example.com', name: 'Name a77@example.com', status: 'subscribed', created_at: now });
    expect(stored.get('b3@example.com')).toMatchObject({ status: 'unsubscribed' });
    handle.close();
  });

  test('one stored address, in a block or among the rest, undoes the whole copy', async () => {
    for (const stored of ['a30@example.com', 'a110@example.com']) {
      const { handle, writes: w, count } = await writes();
      handle.exec('BEGIN');
      expect(w.copyNew([row(stored)], now)).toBe(true);
      const rows = Array.from({ length: 120 }, (_, i) => row(`a${i}@example.com`));
      expect(w.copyNew(rows, now), stored).toBe(false);
      handle.exec('COMMIT');
      expect(count()).toBe(1);
      handle.close();
    }
  });
});
