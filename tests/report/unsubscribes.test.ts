/**
 * Unsubscribes counted by the issue whose link was used, through a real `digest serve`: a burst of
 * one-click POSTs from two issues' links, some repeated, all counted once for their own issue, and
 * written before the server's close resolves. On SQLite and PostgreSQL.
 */
import { describe, expect, test } from 'vitest';
import { openStore } from '../../src/audience/open.js';
import { onEachDatabase } from '../audience/databases.js';
import { serve } from '../serve/helpers.js';

onEachDatabase((target) => {
  describe('unsubscribes by issue', () => {
    test('a burst from two issues is counted once a reader, for the issue whose link it was', async () => {
      const db = await target.fresh();
      const s = await serve(db);
      const readers = Array.from({ length: 40 }, (_, i) => `reader${i}@example.org`);
      await s.subscribe(...readers);
      const issueOf = (i: number) => (i % 4 === 0 ? 'spring' : 'summer');
      const post = (email: string, issue: string) =>
        fetch(s.url + s.linkFor(email, issue), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
      // Each reader's link twice, and a few readers through the other issue's link afterwards.
      const answers = await Promise.all(readers.flatMap((email, i) => [post(email, issueOf(i)), post(email, issueOf(i))]));
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
      expect((await post(readers[1]!, 'spring')).status).toBe(200);
      // Someone never on the list, leaving by a link: a change (recorded as unsubscribed), counted.
      expect((await post('stranger@example.org', 'summer')).status).toBe(200);
      await s.stop();

      const store = await openStore(db);
      try {
        const rows = await store.dialect.db.selectFrom('unsubscribe_events').select(['issue', 'email_key', 'how']).orderBy('email_key').execute();
        expect(rows.filter((row) => row.issue === 'spring')).toHaveLength(10);
        expect(rows.filter((row) => row.issue === 'summer')).toHaveLength(31);
        expect(rows.every((row) => row.how === 'one-click')).toBe(true);
        expect(rows.find((row) => row.email_key === 'reader1@example.org')).toMatchObject({ issue: 'summer' });
        expect(new Set(rows.map((row) => row.email_key)).size).toBe(rows.length);
      } finally {
        await store.close();
      }
    });
  });
});
