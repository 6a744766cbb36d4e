/**
 * End to end: a real `digest send` (the compiled CLI) to an SMTP server on loopback, with a bounce
 * address; reports built from what that server recorded (each message's tagged envelope sender and
 * its headers); then `digest bounces read`: exactly the readers the reports name change, reading the
 * same reports again changes nothing, and the next send skips the bounced and the complainer.
 * On SQLite and PostgreSQL.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { onEachDatabase, tempDir } from '../audience/databases.js';
import { fixture, runCli, tempProject } from '../helpers.js';
import { sinkForSuite } from '../smtp-sink.js';
import { complaint, config, dsn, SECRET, vacation } from './reports.js';


onEachDatabase((target) => {
  describe('bounces that come back after a send', () => {
    const sink = sinkForSuite();

    test('DSNs and a complaint built from the recorded Return-Paths change exactly their readers, once, and the next send skips them', async () => {
      const issue = fixture('issues', 'complete.md');
      const root = tempProject({ 'issues/week.md': issue, 'issues/week2.md': issue.replace('title: Bridge reopens', 'title: Ferry returns') }, config);
      const db = await target.fresh();
      const readers = ['dead@example.org', 'full@example.org', 'angry@example.org', 'fine@example.org', 'away@example.org'];
      for (const email of readers) expect((await runCli(['subscribers', 'add', email, '--tag', 'local', '--db', db], { cwd: root })).code).toBe(0);
      const env = { DIGEST_SECRET: SECRET };
      const send = (file: string) => runCli(['send', file, '--db', db, '--smtp', sink().url, '--yes', '--json'], { cwd: root, env });
      const first = await send('issues/week.md');
      expect(first.code, first.stderr).toBe(0);
      const sent = Object.fromEntries(sink().received.map((message) => [message.recipient, message]));
      // Each message's envelope sender carries a tag of its own.
      const tags = readers.map((email) => /^bounces\+([0-9a-f]{20})@bounces\.gazette\.example$/.exec(sent[email]!.envelopeFrom)?.[1]);
      expect(new Set(tags).size).toBe(readers.length);

      const reports = join(await tempDir(), 'reports');
      mkdirSync(reports);
      writeFileSync(join(reports, '1-dead.eml'), dsn(sent['dead@example.org']!, { status: '5.1.1', diagnostic: '550 5.1.1 <dead@example.org>: Recipient address rejected: User unknown in virtual mailbox table' }));
      writeFileSync(join(reports, '2-full.eml'), dsn(sent['full@example.org']!, { status: '4.2.2', diagnostic: '452 4.2.2 Mailbox full' }));
      writeFileSync(join(reports, '3-angry.eml'), complaint(sent['angry@example.org']!, { redact: true }));
      writeFileSync(join(reports, '4-away.eml'), vacation(sent['away@example.org']!));
      // A report with a tag that names no message (forged, or another list's), about a reader of ours.
      const forged = { ...sent['fine@example.org']!, envelopeFrom: 'bounces+0123456789abcdef0123@bounces.gazette.example', raw: Buffer.from('Subject: x\r\nMessage-ID: <not-ours@example.net>\r\n\r\n') };
      writeFileSync(join(reports, '5-forged.eml'), dsn(forged, { status: '5.1.1', diagnostic: '550 5.1.1 User unknown' }));
      // A block of the sender is loud, and holds nothing against the reader.
      writeFileSync(join(reports, '6-blocked.eml'), dsn(sent['fine@example.org']!, { status: '5.7.1', diagnostic: '554 5.7.1 Service unavailable; client host [192.0.2.1] blocked using zen.spamhaus.org' }));

      const read = (...args: string[]) => runCli(['bounces', 'read', reports, '--db', db, ...args], { cwd: root, env });
      const dry = await read('--dry-run', '--json');
      expect(dry.code, dry.stderr).toBe(0);
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, reports: 6, bounced: 1, complained: 1, counted: 1 });
      const listed = async (status: string) =>
        (JSON.parse((await runCli(['subscribers', 'list', '--status', status, '--db', db, '--json'], { cwd: root })).stdout).subscribers as { email: string; withdrawnHow: string }[]);
      expect(await listed('bounced')).toEqual([]);

      const run = await read('--json');
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout);
      const byReport = (file: string) => result.outcomes.find((outcome: { source: string }) => outcome.source.endsWith(file));
      expect(byReport('1-dead.eml')).toMatchObject({ recipient: 'dead@example.org', issue: 'week', kind: 'hard', status: '5.1.1', action: 'bounced' });
      expect(byReport('2-full.eml')).toMatchObject({ recipient: 'full@example.org', kind: 'soft', status: '4.2.2', action: 'counted' });
      expect(byReport('3-angry.eml')).toMatchObject({ recipient: 'angry@example.org', issue: 'week', kind: 'complaint', action: 'complained' });
      expect(byReport('4-away.eml')).toMatchObject({ kind: 'auto-reply', action: 'ignored' });
      expect(byReport('5-forged.eml')).toMatchObject({ action: 'ignored', reason: expect.stringMatching(/not a report about a message digest sent/) });
      expect(byReport('6-blocked.eml')).toMatchObject({ recipient: 'fine@example.org', kind: 'sender', action: 'ignored' });
      expect(await listed('bounced')).toEqual([expect.objectContaining({ email: 'dead@example.org', withdrawnHow: expect.stringContaining('5.1.1') })]);
      expect((await listed('complained')).map((reader) => reader.email)).toEqual(['angry@example.org']);
      const why = (await runCli(['subscribers', 'list', '--status', 'bounced', '--db', db], { cwd: root })).stdout;
      expect(why).toMatch(/^dead@example\.org\tbounced\t\tlocal\tbounce 5\.1\.1: 550 5\.1\.1 <dead@example\.org>: Recipient address rejected: User unknown in virtual mailbox table \(20\d\d-/);

      // The issue's status counts what came back.
      const status = JSON.parse((await runCli(['status', 'week', '--db', db, '--json'], { cwd: root })).stdout);
      expect(status).toMatchObject({ issue: 'week', sent: 5, bounced: 1, complained: 1, softBounces: 1, senderRefusals: 1 });
      expect((await runCli(['status', 'week', '--db', db], { cwd: root })).stdout).toContain('came back since: 1 bounced, 1 complained, 1 soft bounces counted, 1 refused as the sender');

      // Read again: nothing more happens.
      const again = JSON.parse((await read('--json')).stdout);
      expect(again).toMatchObject({ reports: 6, bounced: 0, complained: 0, counted: 0, ignored: 6 });

      const before = sink().received.length;
      const second = await send('issues/week2.md');
      expect(second.code, second.stderr).toBe(0);
      expect(sink().received.slice(before).map((message) => message.recipient).sort()).toEqual(['away@example.org', 'fine@example.org', 'full@example.org']);
    });
  });
});
