/**
 * `digest bounces fetch` against a real IMAP server (Dovecot, tests/bounces/dovecot.ts): a real send
 * to the SMTP sink, reports built from what it recorded and put in the bounce mailbox, then the
 * compiled CLI reads the mailbox. The reports change exactly their readers; each message is put
 * aside (moved, or flagged) once the ledger has applied it, so the next run reads only what is new;
 * a message read again after all (put back, as a crash before the move would leave it) changes
 * nothing; a dry run and a refused login leave the mailbox and the list as they were.
 * On SQLite and PostgreSQL.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImapFlow } from 'imapflow';
import { describe, expect, onTestFinished, test } from 'vitest';
import { onEachDatabase } from '../audience/databases.js';
import { fixture, runCli, tempProject } from '../helpers.js';
import { sinkForSuite, type Received } from '../smtp-sink.js';
import { dovecotAvailable, dovecotForSuite, type Account, type Dovecot } from './dovecot.js';
import { complaint, config, dsn, SECRET, vacation } from './reports.js';


interface Outcome {
  source: string;
  recipient: string | null;
  kind: string;
  action: string;
  reason?: string;
}

/** An account of the test's own on the suite's Dovecot, so every test starts from an empty mailbox. */
async function bounceMailbox(dovecot: Dovecot): Promise<{ account: Account; imap: ImapFlow }> {
  const account = dovecot.account();
  const imap = await account.client();
  onTestFinished(() => imap.logout().catch(() => {}));
  return { account, imap };
}

/** Puts a report in a folder of the mailbox, as the MTA's delivery would (with CRLF line ends). */
async function deliver(imap: ImapFlow, report: string, flags: string[] = [], folder = 'INBOX'): Promise<string> {
  await imap.append(folder, report.replace(/\r?\n/g, '\r\n'), flags);
  return /^Message-ID: (<[^>]+>)$/im.exec(report)![1]!;
}

/** The messages in a folder, by Message-ID, with their flags (\\Recent aside: it is the session's, not the message's); undefined for a folder that does not exist. */
async function folder(imap: ImapFlow, path: string): Promise<{ id: string; flags: string[] }[] | undefined> {
  if (!(await imap.list()).some((box) => box.path === path)) return undefined;
  const box = await imap.mailboxOpen(path, { readOnly: true });
  if (!box.exists) return [];
  const messages = await imap.fetchAll('1:*', { envelope: true, flags: true });
  await imap.mailboxClose();
  return messages.map((message) => ({ id: message.envelope!.messageId!, flags: [...(message.flags ?? [])].filter((flag) => flag !== '\\Recent').sort() })).sort((a, b) => a.id.localeCompare(b.id));
}

const ids = (messages: { id: string }[] | undefined) => messages?.map((message) => message.id).sort();

describe.skipIf(!dovecotAvailable())('digest bounces fetch', () => {
  const dovecot = dovecotForSuite();

  onEachDatabase((target) => {
    const sink = sinkForSuite();

    /** A project, its readers, and the first issue sent to them through the sink. */
    async function sent(readers: string[]) {
      const root = tempProject({ 'issues/week.md': fixture('issues', 'complete.md'), 'readers.csv': ['email', ...readers].join('\n') }, config);
      const db = await target.fresh();
      const added = await runCli(['subscribers', 'import', 'readers.csv', '--tag', 'local', '--db', db], { cwd: root });
      expect(added.code, added.stderr).toBe(0);
      const before = sink().received.length;
      const send = await runCli(['send', 'issues/week.md', '--db', db, '--smtp', sink().url, '--yes', '--json'], { cwd: root, env: { DIGEST_SECRET: SECRET } });
      expect(send.code, send.stderr).toBe(0);
      const messages: Record<string, Received> = Object.fromEntries(sink().received.slice(before).map((message) => [message.recipient, message]));
      const listed = async (status: string) =>
        (JSON.parse((await runCli(['subscribers', 'list', '--status', status, '--db', db, '--json'], { cwd: root })).stdout).subscribers as { email: string }[]).map((reader) => reader.email);
      return { root, db, sent: messages, listed };
    }

    function fetcher(root: string, db: string, account: Account) {
      return async (...args: string[]) => {
        const run = await runCli(['bounces', 'fetch', '--db', db, '--json', ...args], { cwd: root, env: { DIGEST_SECRET: SECRET, DIGEST_BOUNCE_IMAP_URL: account.url, DIGEST_BOUNCE_IMAP_PASSWORD: account.password } });
        expect(run.code, run.stderr).toBe(0);
        return JSON.parse(run.stdout) as { dryRun: boolean; reports: number; bounced: number; complained: number; counted: number; ignored: number; outcomes: Outcome[] };
      };
    }

    test('reports in the mailbox change exactly their readers and are moved to digest-processed; the next run reads only what is new', async () => {
      const { account, imap } = await bounceMailbox(dovecot());
      const { root, db, sent: to, listed } = await sent(['dead@example.org', 'full@example.org', 'angry@example.org', 'away@example.org', 'fine@example.org']);
      const dead = await deliver(imap, dsn(to['dead@example.org']!, { status: '5.1.1', diagnostic: '550 5.1.1 <dead@example.org>: Recipient address rejected: User unknown in virtual mailbox table' }));
      const full = await deliver(imap, dsn(to['full@example.org']!, { status: '4.2.2', diagnostic: '452 4.2.2 Mailbox full' }));
      const angry = await deliver(imap, complaint(to['angry@example.org']!, { redact: true }));
      const away = await deliver(imap, vacation(to['away@example.org']!));
      const reports = [dead, full, angry, away].sort();
      const fetch = fetcher(root, db, account);

      // A dry run reads and judges everything, and leaves the mailbox and the list alone.
      expect(await fetch('--dry-run')).toMatchObject({ dryRun: true, reports: 4, bounced: 1, complained: 1, counted: 1, ignored: 1 });
      expect(await folder(imap, 'INBOX')).toEqual(reports.map((id) => ({ id, flags: [] })));
      expect(await folder(imap, 'digest-processed')).toBeUndefined();
      expect(await listed('bounced')).toEqual([]);

      const run = await fetch();
      expect(run).toMatchObject({ dryRun: false, reports: 4, bounced: 1, complained: 1, counted: 1, ignored: 1 });
      const byReader = (email: string) => run.outcomes.find((outcome) => outcome.recipient === email);
      expect(byReader('dead@example.org')).toMatchObject({ source: expect.stringMatching(/^imap:INBOX\/\d+$/), kind: 'hard', action: 'bounced' });
      expect(byReader('full@example.org')).toMatchObject({ kind: 'soft', action: 'counted' });
      expect(byReader('angry@example.org')).toMatchObject({ kind: 'complaint', action: 'complained' });
      expect(run.outcomes.find((outcome) => outcome.kind === 'auto-reply')).toMatchObject({ action: 'ignored' });
      expect(await listed('bounced')).toEqual(['dead@example.org']);
      expect(await listed('complained')).toEqual(['angry@example.org']);
      expect(await folder(imap, 'INBOX')).toEqual([]);
      expect(ids(await folder(imap, 'digest-processed'))).toEqual(reports);

      // Nothing new: nothing read, nothing counted.
      expect(await fetch()).toMatchObject({ reports: 0, bounced: 0, complained: 0, counted: 0, ignored: 0 });

      // One more report: only it is read.
      const late = await deliver(imap, dsn(to['fine@example.org']!, { status: '5.1.1', diagnostic: '550 5.1.1 User unknown' }));
      const next = await fetch();
      expect(next).toMatchObject({ reports: 1, bounced: 1, counted: 0 });
      expect(next.outcomes).toEqual([expect.objectContaining({ recipient: 'fine@example.org', action: 'bounced' })]);
      expect(ids(await folder(imap, 'digest-processed'))).toEqual([...reports, late].sort());

      // A report back in the inbox (a crash between the ledger and the move leaves one there) is
      // read again and changes nothing: the soft bounce is not counted twice.
      await imap.mailboxOpen('digest-processed');
      await imap.messageCopy({ header: { 'message-id': full } }, 'INBOX');
      await imap.mailboxClose();
      const again = await fetch();
      expect(again).toMatchObject({ reports: 1, bounced: 0, counted: 0, ignored: 1 });
      expect(again.outcomes[0]!.reason).toMatch(/read before/);
      expect(await folder(imap, 'INBOX')).toEqual([]);
    });

    test('--mark flag leaves each message in place, \\Seen and $DigestProcessed, and skips those next time; one a person has only read is still processed', async () => {
      const { account, imap } = await bounceMailbox(dovecot());
      const { root, db, sent: to, listed } = await sent(['dead@example.org', 'full@example.org', 'fine@example.org']);
      const dead = await deliver(imap, dsn(to['dead@example.org']!, { status: '5.1.1', diagnostic: '550 5.1.1 User unknown' }));
      // Opened in a mail client before digest ran: seen, not processed.
      const full = await deliver(imap, dsn(to['full@example.org']!, { status: '4.2.2', diagnostic: '452 4.2.2 Mailbox full' }), ['\\Seen']);
      const fetch = fetcher(root, db, account);

      expect(await fetch('--mark', 'flag')).toMatchObject({ reports: 2, bounced: 1, counted: 1 });
      expect(await folder(imap, 'INBOX')).toEqual([dead, full].sort().map((id) => ({ id, flags: ['$DigestProcessed', '\\Seen'] })));
      expect(await folder(imap, 'digest-processed')).toBeUndefined();
      expect(await listed('bounced')).toEqual(['dead@example.org']);

      expect(await fetch('--mark', 'flag')).toMatchObject({ reports: 0 });

      const late = await deliver(imap, dsn(to['fine@example.org']!, { status: '5.1.1', diagnostic: '550 5.1.1 User unknown' }));
      const next = await fetch('--mark', 'flag');
      expect(next).toMatchObject({ reports: 1, bounced: 1, counted: 0 });
      expect(next.outcomes).toEqual([expect.objectContaining({ recipient: 'fine@example.org' })]);
      expect((await folder(imap, 'INBOX'))!.find((message) => message.id === late)!.flags).toEqual(['$DigestProcessed', '\\Seen']);
      // Moving later skips what flagging already put aside.
      expect(await fetch()).toMatchObject({ reports: 0 });
    });

    test('a refused login is one line naming it, with no password and no stack; the mailbox and the list are untouched', async () => {
      const { account, imap } = await bounceMailbox(dovecot());
      const { root, db, sent: to, listed } = await sent(['dead@example.org']);
      const report = await deliver(imap, dsn(to['dead@example.org']!, { status: '5.1.1', diagnostic: '550 5.1.1 User unknown' }));
      const wrong = 'not-the-password-7f3a';
      // The wrong password in its variable, and in the URL (where it must not be printed either).
      const settings: Record<string, string>[] = [
        { DIGEST_BOUNCE_IMAP_URL: account.url, DIGEST_BOUNCE_IMAP_PASSWORD: wrong },
        { DIGEST_BOUNCE_IMAP_URL: account.url.replace(`${account.user}@`, `${account.user}:${wrong}@`) },
      ];
      for (const env of settings) {
        const run = await runCli(['bounces', 'fetch', '--db', db, '--json'], { cwd: root, env });
        expect(run.code).toBe(1);
        expect(run.stdout).toBe('');
        expect(run.stderr).not.toContain(wrong);
        expect(run.stderr).toBe(`digest: the IMAP server imap://${account.user}@127.0.0.1:${dovecot().port}/INBOX refused the login for ${account.user} (Authentication failed.): check the user in DIGEST_BOUNCE_IMAP_URL and the password\n`);
      }
      expect(await folder(imap, 'INBOX')).toEqual([{ id: report, flags: [] }]);
      expect(await folder(imap, 'digest-processed')).toBeUndefined();
      expect(await listed('bounced')).toEqual([]);
    });
  });

  describe('the mailbox settings', () => {
    const root = tempProject({}, config);
    const fetch = (env: Record<string, string>) => runCli(['bounces', 'fetch'], { cwd: root, env });

    test('a missing URL or password, or a server not there, is one line and exit 1', async () => {
      const missing = await fetch({});
      expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/^digest: DIGEST_BOUNCE_IMAP_URL is not set: .*\n$/)]);
      const noPassword = await fetch({ DIGEST_BOUNCE_IMAP_URL: 'imap://bounces@127.0.0.1:1/INBOX' });
      expect([noPassword.code, noPassword.stderr]).toEqual([1, 'digest: no password for the bounce mailbox imap://bounces@127.0.0.1:1/INBOX: set DIGEST_BOUNCE_IMAP_PASSWORD\n']);
      // Port 1 on loopback: nothing listens there.
      const refused = await fetch({ DIGEST_BOUNCE_IMAP_URL: 'imap://bounces:secret-in-url@127.0.0.1:1/INBOX' });
      expect([refused.code, refused.stderr]).toEqual([1, 'digest: cannot reach the IMAP server imap://bounces@127.0.0.1:1/INBOX: nothing is listening there\n']);
      expect(existsSync(join(root, 'digest.db'))).toBe(false);
    });

    test('imap:// to another machine requires STARTTLS: a server without it is refused before the password is sent', async () => {
      const account = dovecot().account();
      // The same Dovecot (no TLS at all) through its IPv4-mapped IPv6 address: digest sees no
      // loopback name in the URL, so it treats the server as another machine's.
      const run = await fetch({ DIGEST_BOUNCE_IMAP_URL: `imap://${account.user}@[::ffff:127.0.0.1]:${dovecot().port}/INBOX`, DIGEST_BOUNCE_IMAP_PASSWORD: account.password });
      expect(run.code).toBe(1);
      // Dovecot saw the connection close with no login tried: the user name and password never went.
      await expect.poll(() => dovecot().log()).toMatch(/no auth attempts/);
      expect(dovecot().log()).not.toContain(`user=<${account.user}>`);
      expect(run.stderr).toMatch(/^digest: cannot open a TLS connection to the IMAP server imap:\/\/bounces\d+@\[::ffff:7f00:1\]:\d+\/INBOX \(.*STARTTLS.*\); imap:\/\/ to another machine requires STARTTLS, imaps:\/\/ TLS from the start\n$/);
    });
  });
});
