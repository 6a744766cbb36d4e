/**
 * End to end: a real `digest send` to an SMTP server on loopback that greylists one domain and
 * refuses one address (the greylisted readers go on the send's own retry; a rerun sends nothing); a DSN and a complaint come back and
 * `digest bounces read` takes them; three readers leave through `digest serve` (two by one-click,
 * one on the page, one of them twice) and readers follow tracked links. Then `digest report` must
 * give exactly what the server and the serve endpoint saw. On SQLite and PostgreSQL.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { onEachDatabase, tempDir } from '../audience/databases.js';
import { complaint, dsn } from '../bounces/reports.js';
import { fixture, runCli, tempProject } from '../helpers.js';
import { sinkForSuite } from '../smtp-sink.js';
import { SECRET, serve } from '../serve/helpers.js';

const config = `name: The Test Gazette
from: "Test Gazette <news@gazette.example>"
address: "1 Press Lane, Testville"
baseUrl: https://gazette.example/news
unsubscribeUrl: https://gazette.example/u
bounceAddress: bounces@bounces.gazette.example
tracking:
  clicks: true
`;

const readers = [
  'ana@example.org',
  'bo@example.org',
  'cy@example.org',
  'di@example.org',
  'ed@example.org',
  'fay@example.org',
  'gus@greylist.example',
  'hal@greylist.example',
  'gone@refuse.example',
  'later@example.org',
  'angry@example.org',
];

onEachDatabase((target) => {
  describe('digest report after a real send', () => {
    const sink = sinkForSuite({
      behaviour: (recipient, attempt) => {
        if (recipient.endsWith('@greylist.example') && attempt === 1) return { code: 451, message: '4.7.1 Greylisted, please try again later' };
        if (recipient === 'gone@refuse.example') return { code: 550, message: '5.1.1 <gone@refuse.example>: mailbox unavailable' };
        return 'accept';
      },
    });

    test('its figures are what the SMTP server and the unsubscribe endpoint saw', async () => {
      const root = tempProject({ 'issues/week.md': fixture('issues', 'complete.md') }, config);
      const db = await target.fresh();
      const env = { DIGEST_SECRET: SECRET };
      for (const email of readers) expect((await runCli(['subscribers', 'add', email, '--tag', 'local', '--db', db], { cwd: root })).code).toBe(0);
      const send = () => runCli(['send', 'issues/week.md', '--db', db, '--smtp', sink().url, '--yes', '--json'], { cwd: root, env });
      const first = await send();
      expect(first.code, first.stderr).toBe(0);
      // The greylisted readers were tried again within the run and accepted the second time.
      expect(JSON.parse(first.stdout)).toMatchObject({ deferred: 0, failed: 1 });
      const before = sink().received.length;
      const second = await send();
      expect(second.code, second.stderr).toBe(0);
      expect(sink().received.length).toBe(before);

      // What the server accepted, once per reader.
      const accepted = new Map(sink().received.map((message) => [message.recipient, message]));
      expect(accepted.size).toBe(readers.length - 1);

      // Reports that come back afterwards.
      const reports = join(await tempDir(), 'reports');
      mkdirSync(reports);
      writeFileSync(join(reports, 'later.eml'), dsn(accepted.get('later@example.org')!, { status: '5.1.1', diagnostic: '550 5.1.1 User unknown' }));
      writeFileSync(join(reports, 'angry.eml'), complaint(accepted.get('angry@example.org')!));
      const read = await runCli(['bounces', 'read', reports, '--db', db], { cwd: root, env });
      expect(read.code, read.stderr).toBe(0);

      // Readers leaving through their own links, as their mail clients and browsers would.
      const s = await serve(db, { config });
      const linkOf = (email: string) => {
        const header = (accepted.get(email)!.parsed.headers.get('list') as { unsubscribe: { url: string } }).unsubscribe;
        const published = new URL(header.url);
        return new URL(published.pathname, s.url);
      };
      const post = (email: string, body: string) => fetch(linkOf(email), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      expect((await post('ana@example.org', 'List-Unsubscribe=One-Click')).status).toBe(200);
      expect((await post('ana@example.org', 'List-Unsubscribe=One-Click')).status).toBe(200); // a client retrying
      expect((await post('bo@example.org', 'List-Unsubscribe=One-Click')).status).toBe(200);
      expect((await post('cy@example.org', 'confirm=unsubscribe')).status).toBe(200);
      const unsubscribeLogs = s.logs.filter((entry) => entry.msg === 'unsubscribe');
      expect(unsubscribeLogs.filter((entry) => entry.changed)).toHaveLength(3);

      // Readers following tracked links: the first link three times (two readers), the second once.
      const tracked = (email: string) => [...new Set(String(accepted.get(email)!.parsed.html).match(/https:\/\/gazette\.example\/news\/c\/[^"]+/g))];
      const follow = async (link: string) => {
        const response = await fetch(new URL(new URL(link).pathname, s.url), { redirect: 'manual' });
        expect(response.status).toBe(302);
        return response.headers.get('location')!;
      };
      const [diFirst, diSecond] = tracked('di@example.org');
      const [edFirst] = tracked('ed@example.org');
      const firstUrl = await follow(diFirst!);
      expect(await follow(diFirst!)).toBe(firstUrl);
      expect(await follow(edFirst!)).toBe(firstUrl);
      const secondUrl = await follow(diSecond!);
      expect(secondUrl).not.toBe(firstUrl);
      await s.stop(); // writes the clicks still held

      const report = await runCli(['report', 'week', '--db', db, '--json'], { cwd: root });
      expect(report.code, report.stderr).toBe(0);
      const { issue } = JSON.parse(report.stdout);
      expect(issue).toMatchObject({
        issue: 'week',
        readers: readers.length,
        sent: accepted.size,
        failed: 1,
        deferred: 0,
        unknown: 0,
        pending: 0,
        bouncedAfter: 1,
        complained: 1,
        unsubscribed: { oneClick: 2, page: 1, total: 3 },
        links: [
          { url: firstUrl, clicks: 3 },
          { url: secondUrl, clicks: 1 },
        ],
        clicks: 4,
      });
      expect(issue.rates.click).toBeCloseTo(4 / accepted.size, 10);
      expect(issue.rates.bounce).toBeCloseTo(2 / readers.length, 10);
      expect(issue.rates.complaint).toBeCloseTo(1 / accepted.size, 10);
      expect(issue.rates.unsubscribe).toBeCloseTo(3 / accepted.size, 10);
      // Every acceptance is in the chart's points, in the minutes the server gave its 250s.
      const points = issue.delivery.points as { at: string; accepted: number }[];
      expect(points.reduce((sum, point) => sum + point.accepted, 0)).toBe(accepted.size);
      const minutes = [...accepted.values()].map((message) => new Date(message.at).toISOString().slice(0, 16));
      expect(minutes.every((minute) => points.some((point) => point.at <= minute))).toBe(true);
      // The greylisted domain needed two attempts a reader and was the slowest; the refusing one failed with its words.
      expect(issue.slowestDomains[0]).toMatchObject({ domain: 'greylist.example', readers: 2, sent: 2, attempts: 2 });
      expect(issue.failingDomains).toEqual([
        expect.objectContaining({ domain: 'refuse.example', failed: 1, replies: [expect.objectContaining({ reply: expect.stringContaining('550 5.1.1'), readers: 1 })] }),
      ]);

      // Across issues: the list as `subscribers` counts it, and this issue among the issues.
      const whole = await runCli(['report', '--db', db, '--json'], { cwd: root });
      expect(whole.code, whole.stderr).toBe(0);
      const { list } = JSON.parse(whole.stdout);
      const counts = JSON.parse((await runCli(['subscribers', 'count', '--db', db, '--json'], { cwd: root })).stdout);
      expect(list.size.at(-1)).toEqual({ period: expect.any(String), subscribed: counts.subscribed, unsubscribed: 3, bounced: 2, complained: 1 });
      expect(counts.subscribed).toBe(readers.length - 6);
      expect(list.joined.reduce((sum: number, point: { bySource: Record<string, number> }) => sum + (point.bySource.cli ?? 0), 0)).toBe(readers.length);
      expect(list.issues).toEqual([expect.objectContaining({ issue: 'week', sent: accepted.size, complained: 1, clicks: 4 })]);
      expect(list.ranked).toEqual({ by: 'clicks', issues: ['week'] });

      // The page holds the same figures.
      const page = await runCli(['report', 'week', '--db', db, '--out', 'report.html'], { cwd: root });
      expect(page.code, page.stderr).toBe(0);
      const html = readFileSync(join(root, 'report.html'), 'utf8');
      expect(html).toContain('<dt>Sent</dt><dd>10</dd>');
      expect(html).toContain('<dt>Unsubscribed</dt><dd>3</dd>');
      expect(html).toContain('550 5.1.1 &lt;gone@refuse.example&gt;: mailbox unavailable (1)');
    });

    test('an issue never sent is one clear line, and no file is written', async () => {
      const root = tempProject({}, config);
      const db = await target.fresh();
      expect((await runCli(['subscribers', 'add', 'ana@example.org', '--db', db], { cwd: root })).code).toBe(0);
      const result = await runCli(['report', 'nothing-here', '--db', db, '--out', 'r.html'], { cwd: root });
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe('digest: no send of "nothing-here" in the journal');
      expect(() => readFileSync(join(root, 'r.html'))).toThrow();
    });
  });
});
