/**
 * End to end: a real `digest send` delivers to an smtp-server sink; the List-Unsubscribe URL is taken
 * from a delivered message, only its host rewritten to the server on 127.0.0.1, and POSTed with the
 * one-click body. The reader is unsubscribed, and the next sends, to the database and to a CSV list,
 * skip them. On SQLite and PostgreSQL.
 */
import { describe, expect, test } from 'vitest';
import { onEachDatabase } from '../audience/databases.js';
import { fixture, runCli, tempProject } from '../helpers.js';
import { sinkForSuite } from '../smtp-sink.js';
import { SECRET, serve } from './helpers.js';

const config = `name: The Test Gazette
from: "Test Gazette <news@gazette.example>"
address: "1 Press Lane, Testville"
baseUrl: https://gazette.example/news
unsubscribeUrl: https://gazette.example/u
`;

onEachDatabase((target) => {
  describe('from a sent message to an unsubscribed reader', () => {
    const sink = sinkForSuite();

    test('the one-click URL of a delivered message unsubscribes its reader, and the next sends skip them', async () => {
      const issue = fixture('issues', 'complete.md');
      const root = tempProject({ 'issues/week.md': issue, 'issues/week2.md': issue, 'issues/week3.md': issue, 'readers.csv': 'email,tags\nana@example.org,local\nbo@example.org,local\n' }, config);
      const db = await target.fresh();
      for (const email of ['ana@example.org', 'bo@example.org']) expect((await runCli(['subscribers', 'add', email, '--tag', 'local', '--db', db], { cwd: root })).code).toBe(0);
      const send = (args: string[]) => runCli(['send', ...args, '--db', db, '--smtp', sink().url, '--yes', '--json'], { cwd: root, env: { DIGEST_SECRET: SECRET } });

      const first = await send(['issues/week.md']);
      expect(first.code, first.stderr).toBe(0);
      const message = sink().received.find((received) => received.recipient === 'ana@example.org')!;
      expect(message).toBeDefined();
      expect(message.raw.toString()).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
      const header = (message.parsed.headers.get('list') as { unsubscribe: { url: string } }).unsubscribe;
      const published = new URL(header.url);
      expect(published.origin).toBe('https://gazette.example');

      const s = await serve(db, { config });
      const local = new URL(published.pathname + published.search, s.url);
      const response = await fetch(local, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(response.status).toBe(200);
      expect(await s.store.get('ana@example.org')).toMatchObject({ status: 'unsubscribed', withdrawnHow: 'one-click' });
      expect(s.logs.find((entry) => entry.msg === 'unsubscribe')).toMatchObject({ issue: 'week', changed: true });

      const before = sink().received.length;
      const second = await send(['issues/week2.md']);
      expect(second.code, second.stderr).toBe(0);
      const third = await send(['issues/week3.md', '--to', 'readers.csv']);
      expect(third.code, third.stderr).toBe(0);
      expect(sink().received.slice(before).map((received) => received.recipient)).toEqual(['bo@example.org', 'bo@example.org']);
    });
  });
});
