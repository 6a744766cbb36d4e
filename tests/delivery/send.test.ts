import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/audience/open.js';
import { openUnsubscribe, unsubscribeKey } from '../../src/delivery/unsubscribe.js';
import { onEachDatabase, type Target } from '../audience/databases.js';
import { fixture, runCli } from '../helpers.js';
import { project, SECRET, send } from './project.js';
import { startSink } from '../smtp-sink.js';

onEachDatabase((target: Target) => {
  describe('digest send over SMTP', () => {
    let sink: Awaited<ReturnType<typeof startSink>>;
    let root: string;
    let db: string;
    let first: Awaited<ReturnType<typeof send>>;

    beforeAll(async () => {
      sink = await startSink();
      root = project();
      db = await target.fresh();
      first = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', db, '--smtp', sink.url]);
    });
    afterAll(() => sink.close());

    it('sends each reader one copy and reports it in one JSON document', () => {
      expect(first.stderr).not.toMatch(/error/i);
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toEqual({ issue: 'week', recipients: 3, sent: 3, alreadySent: 0, failed: 0, deferred: 0, unknown: 0, unknownNow: 0, pending: 0, excluded: 1 });
      expect([...sink.perRecipient()].sort()).toEqual([
        ['ana@example.org', 1],
        ['bo@example.org', 1],
        ['cy@example.org', 1],
      ]);
    });

    it('personalises each copy, falling back where a field is missing', () => {
      const byRecipient = new Map(sink.received.map((message) => [message.recipient, message.parsed]));
      expect(byRecipient.get('ana@example.org')!.text).toContain('Good morning, Ana.');
      expect(byRecipient.get('cy@example.org')!.text).toContain('Good morning, neighbour.');
      expect(byRecipient.get('ana@example.org')!.html).toContain('Good morning, Ana.');
    });

    it('builds multipart/alternative, text then HTML, with the headers bulk senders must carry', () => {
      const { parsed, raw } = sink.received.find((message) => message.recipient === 'ana@example.org')!;
      const source = raw.toString();
      expect(parsed.headers.get('content-type')).toMatchObject({ value: 'multipart/alternative' });
      expect(source.indexOf('Content-Type: text/plain')).toBeLessThan(source.indexOf('Content-Type: text/html'));
      expect(parsed.subject).toBe('Bridge reopens; budget vote Tuesday');
      expect(parsed.from?.value).toEqual([{ address: 'news@gazette.example', name: 'Test Gazette' }]);
      expect(source).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
      expect(parsed.headers.get('list')).toMatchObject({ id: { name: 'The Test Gazette', id: 'the-test-gazette.gazette.example' } });
      expect(parsed.messageId).toMatch(/^<[0-9a-f]{32}\.week@gazette\.example>$/);
    });

    it('gives each reader an unsubscribe link of their own, which opens to them and this issue', () => {
      const key = unsubscribeKey(SECRET);
      const links = sink.received.map((message) => {
        const header = (message.parsed.headers.get('list') as { unsubscribe: { url: string; mail?: string } }).unsubscribe;
        expect(header.mail).toBe('leave@gazette.example?subject=unsubscribe');
        expect(header.url).toMatch(/^https:\/\/gazette\.example\/u\/u1\.[\w-]+$/);
        expect(message.parsed.html).toContain(header.url);
        return { recipient: message.recipient, claim: openUnsubscribe(header.url.split('/').pop()!, key) };
      });
      for (const { recipient, claim } of links) expect(claim).toEqual({ email: recipient, issue: 'week' });
    });

    it('sends nothing more when run again, and says how many were already sent', async () => {
      const again = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', db, '--smtp', sink.url]);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ sent: 0, alreadySent: 3, recipients: 3 });
      expect(sink.received).toHaveLength(3);
    });

    it('honours an unsubscribe recorded in the database for a CSV list', async () => {
      const store = await openStore(db);
      await store.unsubscribe('bo@example.org', 'one-click');
      await store.close();
      const other = project({ 'issues/second.md': fixture('issues', 'complete.md').replace('title: Bridge reopens, and the budget vote', 'title: Second week') });
      const result = await send(other, ['issues/second.md', '--to', join(root, 'readers.csv'), '--db', db, '--smtp', sink.url]);
      expect(JSON.parse(result.stdout)).toMatchObject({ sent: 2, excluded: 2 });
      expect(sink.received.filter((m) => m.recipient === 'bo@example.org')).toHaveLength(1);
    });

    it('reports state with digest status', async () => {
      const status = await runCli(['status', 'week', '--db', db, '--json'], { cwd: root });
      // Every reader went through the one route, and status says which.
      expect(JSON.parse(status.stdout)).toEqual({ issue: 'week', sent: 3, failed: 0, deferred: 0, unknown: 0, pending: 0, routes: { [sink.url]: 3 }, bounced: 0, complained: 0, softBounces: 0, senderRefusals: 0 });
    });
  });
});

describe('sending to the database list', () => {
  it('sends to subscribed readers in the issue audience, into the outbox when no SMTP server is set', async () => {
    const root = project();
    const db = `sqlite:${join(root, 'digest.db')}`;
    expect((await runCli(['subscribers', 'import', 'readers.csv', '--db', db], { cwd: root })).code).toBe(0);
    expect((await runCli(['subscribers', 'add', 'other@example.org', '--tag', 'elsewhere', '--db', db], { cwd: root })).code).toBe(0);
    const result = await send(root, ['issues/week.md', '--db', db]);
    expect(result.stderr).toContain('via the outbox');
    // The issue's audience is [weekly, local]: the reader tagged only "elsewhere" is left out.
    expect(JSON.parse(result.stdout)).toMatchObject({ recipients: 3, sent: 3, excluded: 1 });
    expect(readdirSync(join(root, 'outbox', 'week'))).toHaveLength(3);
  });
});
