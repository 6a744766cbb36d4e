/**
 * `digest bounces read` on what arrives in a real bounce mailbox besides good reports: a message
 * with no headers, one of 10 MB, a wrong charset, binary noise, a broken MIME boundary, a report
 * about another list's message, an mbox of several, and standard input as an MTA pipes it. Each
 * gets its expected outcome; none stops the others, prints a stack trace, or touches a reader it
 * does not name.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { tempDir } from '../audience/databases.js';
import { runCli, tempProject } from '../helpers.js';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'digest.js');
const config = 'name: The Test Gazette\nfrom: "Test Gazette <news@gazette.example>"\nbounceAddress: bounces@bounces.gazette.example\n';

const foreignDsn = (recipient: string) =>
  [
    'From: MAILER-DAEMON@mx.other.example',
    'To: bounces+ffffffffffffffffffff@lists.other.example',
    'Subject: Undelivered Mail Returned to Sender',
    'Message-ID: <foreign-1@mx.other.example>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="F"',
    '',
    '--F',
    'Content-Type: text/plain',
    '',
    `<${recipient}>: 550 5.1.1 User unknown`,
    '',
    '--F',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.other.example',
    '',
    `Final-Recipient: rfc822; ${recipient}`,
    'Action: failed',
    'Status: 5.1.1',
    'Diagnostic-Code: smtp; 550 5.1.1 User unknown',
    '',
    '--F',
    'Content-Type: text/rfc822-headers',
    '',
    'From: Other List <news@other.example>',
    `To: ${recipient}`,
    'Message-ID: <0123456789abcdef0123456789abcdef.some-issue@other.example>',
    '',
    '--F--',
    '',
  ].join('\n');

describe('bounces read on the nasty cases', () => {
  test('each message gets its outcome; none touches a reader it does not name', async () => {
    const root = tempProject({}, config);
    const db = `sqlite:${join(await tempDir(), 'digest.db')}`;
    expect((await runCli(['subscribers', 'add', 'kept@example.org', '--db', db], { cwd: root })).code).toBe(0);
    const dir = join(await tempDir(), 'mailbox');
    mkdirSync(dir);
    writeFileSync(join(dir, '01-no-headers.eml'), 'just a line of text, no header at all\n');
    writeFileSync(join(dir, '02-huge.eml'), Buffer.alloc(10 * 1024 * 1024, 'a'));
    writeFileSync(
      join(dir, '03-wrong-charset.eml'),
      Buffer.concat([Buffer.from('From: MAILER-DAEMON@mx.example.net\nSubject: Mail delivery failed\nContent-Type: text/plain; charset=x-no-such-charset\n\nkept@example.org: 550 5.1.1 '), Buffer.from([0xff, 0xfe, 0x81]), Buffer.from(' user unknown\n')]),
    );
    writeFileSync(join(dir, '04-noise.bin'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    writeFileSync(join(dir, '05-other-list.eml'), foreignDsn('kept@example.org'));
    writeFileSync(join(dir, '06-mbox'), `From MAILER-DAEMON Mon Nov 30 10:00:00 2026\n${foreignDsn('a@example.org')}\nFrom someone Mon Nov 30 10:01:00 2026\nSubject: Out of office\nAuto-Submitted: auto-replied\n\nAway.\n`);

    const run = await runCli(['bounces', 'read', dir, '--db', db, '--json'], { cwd: root });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const result = JSON.parse(run.stdout);
    const outcome = (name: string) => result.outcomes.filter((line: { source: string }) => line.source.includes(name));
    expect(result.reports).toBe(7);
    expect(outcome('01-no-headers')).toEqual([expect.objectContaining({ kind: 'not-report', action: 'ignored' })]);
    expect(outcome('02-huge')).toEqual([expect.objectContaining({ action: 'ignored', reason: expect.stringMatching(/^10\.0 MB: too large/) })]);
    // Read, classified, and still not applied: no tag or Message-ID of ours names the reader.
    expect(outcome('03-wrong-charset')).toEqual([expect.objectContaining({ kind: 'hard', status: '5.1.1', action: 'ignored', reason: expect.stringMatching(/not a report about a message digest sent/) })]);
    expect(outcome('04-noise')).toEqual([expect.objectContaining({ action: 'ignored' })]);
    expect(outcome('05-other-list')).toEqual([expect.objectContaining({ kind: 'hard', action: 'ignored', reason: expect.stringMatching(/not a report about a message digest sent/) })]);
    expect(outcome('06-mbox#1')).toEqual([expect.objectContaining({ kind: 'hard', action: 'ignored' })]);
    expect(outcome('06-mbox#2')).toEqual([expect.objectContaining({ kind: 'auto-reply', action: 'ignored' })]);
    expect(result).toMatchObject({ bounced: 0, complained: 0, counted: 0 });
    const reader = JSON.parse((await runCli(['subscribers', 'list', '--db', db, '--json'], { cwd: root })).stdout).subscribers;
    expect(reader).toEqual([expect.objectContaining({ email: 'kept@example.org', status: 'subscribed' })]);
  });

  test('reads one message from standard input, as an MTA pipes it; a missing file is one line', async () => {
    const root = tempProject({}, config);
    const db = `sqlite:${join(await tempDir(), 'digest.db')}`;
    await runCli(['subscribers', 'add', 'kept@example.org', '--db', db], { cwd: root });
    const piped = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, 'bounces', 'read', '-', '--db', db, '--json'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout }));
      child.stdin.end(foreignDsn('kept@example.org'));
    });
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ reports: 1, outcomes: [{ source: 'standard input', kind: 'hard', action: 'ignored' }] });

    const missing = await runCli(['bounces', 'read', join(root, 'nowhere'), '--db', db], { cwd: root });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^digest: .*nowhere: no such file or folder$/)]);
  });
});
