/**
 * How a send ends: a silent server is given up on after --timeout, a signal stops it in order
 * within seconds, and the exit status tells a scheduler whether the send is finished (0), needs
 * another run (75) or failed (1).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/audience/open.js';
import { bin, runCli } from '../helpers.js';
import { startSink, type Behaviour } from '../smtp-sink.js';
import { project, SECRET, send } from './project.js';

const sqlite = (root: string) => `sqlite:${join(root, 'digest.db')}`;
const many = (n: number) => `email,name,tags\n${Array.from({ length: n }, (_, i) => `r${String(i).padStart(3, '0')}@example.org,Reader ${i},local`).join('\n')}\n`;

async function states(db: string): Promise<Record<string, string>> {
  const store = await openStore(db);
  try {
    const rows = await (store as unknown as { dialect: { db: any } }).dialect.db.selectFrom('send_journal').select(['email', 'state']).execute();
    return Object.fromEntries(rows.map((row: { email: string; state: string }) => [row.email, row.state]));
  } finally {
    await store.close();
  }
}

describe('a server that stops answering', () => {
  it('is given up on after --timeout: a message sent whole is unknown, one stuck before DATA is deferred, the rest go out', async () => {
    const behaviour: Behaviour = (to) => (to === 'ana@example.org' ? 'silent' : to === 'bo@example.org' ? 'silent-before-data' : 'accept');
    const sink = await startSink({ behaviour });
    const root = project();
    const started = Date.now();
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url, '--timeout', '1', '--attempts', '1']);
    const seconds = (Date.now() - started) / 1000;
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 1, unknown: 1, unknownNow: 1, deferred: 1 });
    expect(result.code).toBe(75);
    expect(seconds).toBeLessThan(20); // not the ten minutes a socket waits by default
    expect(await states(sqlite(root))).toEqual({ 'ana@example.org': 'unknown', 'bo@example.org': 'deferred', 'cy@example.org': 'sent' });
    expect(sink.unanswered).toEqual(['ana@example.org']);
    const status = JSON.parse((await runCli(['status', 'week', '--db', sqlite(root), '--json', '--failed'], { cwd: root })).stdout);
    expect(status.problems.find((p: { email: string }) => p.email === 'ana@example.org').reply).toMatch(/no answer after the whole message was sent .*may have accepted it/);
    await sink.close();
  });

  it('counts a line dropped after the whole message as unknown and never resends it on its own', async () => {
    const sink = await startSink({ behaviour: (to, attempt) => (to === 'cy@example.org' && attempt === 1 ? 'drop-after-data' : 'accept') });
    const root = project();
    const first = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url, '--retry-delay', '10']);
    expect(JSON.parse(first.stdout)).toMatchObject({ sent: 2, unknown: 1 });
    expect(first.code).toBe(75);
    expect(sink.attempts.get('cy@example.org')).toBe(1);
    // A later run does not touch it and, the unknown being an earlier run's, says the send is done.
    const again = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url]);
    expect(JSON.parse(again.stdout)).toMatchObject({ sent: 0, unknown: 1, unknownNow: 0 });
    expect(again.code).toBe(0);
    expect(sink.attempts.get('cy@example.org')).toBe(1);
    await sink.close();
  });

  it('retries a line dropped before DATA, within the run, and delivers once', async () => {
    const sink = await startSink({ behaviour: (to, attempt) => (to === 'bo@example.org' && attempt === 1 ? 'drop-before-data' : 'accept') });
    const root = project();
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url, '--retry-delay', '10']);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 3, unknown: 0, deferred: 0 });
    expect(result.code).toBe(0);
    expect(sink.perRecipient().get('bo@example.org')).toBe(1);
    await sink.close();
  });

  it('takes the timeout from the config when no flag is given, and refuses a bad one', async () => {
    const sink = await startSink({ behaviour: (to) => (to === 'ana@example.org' ? 'silent' : 'accept') });
    const root = project();
    await import('node:fs').then(({ appendFileSync }) => appendFileSync(join(root, 'digest.config.yaml'), 'timeout: 1\n'));
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url]);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 2, unknown: 1 });
    const bad = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url, '--timeout', 'soon']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--timeout must be a number');
    await sink.close();
  });
});

describe('a signal during a send', () => {
  const slow: Behaviour = () => new Promise((done) => setTimeout(() => done('accept'), 300));

  function sending(root: string, smtp: string) {
    const child = spawn(process.execPath, [bin, 'send', 'issues/week.md', '--to', 'many.csv', '--db', sqlite(root), '--smtp', smtp, '--yes', '--json', '--concurrency', '3'], {
      cwd: root,
      env: { ...process.env, DIGEST_SECRET: SECRET, CI: '1', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; stdout: string; stderr: string; at: number }>((done) =>
      child.on('close', (code) => done({ code, stdout, stderr, at: Date.now() })),
    );
    return { child, exited };
  }

  it('SIGTERM: stops claiming, waits for the answers in flight, writes every outcome, prints the summary and exits 143 within seconds', async () => {
    const sink = await startSink({ behaviour: slow, parse: false });
    const root = project({ 'many.csv': many(200) });
    const run = sending(root, sink.url);
    await expect.poll(() => sink.received.length, { timeout: 20_000, interval: 10 }).toBeGreaterThan(5);
    const signalled = Date.now();
    run.child.kill('SIGTERM');
    const result = await run.exited;
    expect(result.code).toBe(143);
    expect(result.at - signalled).toBeLessThan(10_000);
    expect(result.stderr).toContain('stopping: no more readers are claimed');
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ stopped: true, unknown: 0 });
    // Every answer that came was written: the journal's sent is exactly what the server took, and no one is left sending.
    const journal = await states(sqlite(root));
    const sent = Object.keys(journal).filter((email) => journal[email] === 'sent').sort();
    expect(sent).toEqual([...sink.perRecipient().keys()].sort());
    expect(Object.values(journal).filter((state) => state === 'sending')).toEqual([]);
    expect(summary.pending).toBe(200 - sent.length);
    // The next run finishes, and nobody gets a second copy.
    const rest = await send(root, ['issues/week.md', '--to', 'many.csv', '--db', sqlite(root), '--smtp', sink.url, '--concurrency', '5']);
    expect(rest.code).toBe(0);
    expect(sink.perRecipient().size).toBe(200);
    expect(Math.max(...sink.perRecipient().values())).toBe(1);
    await sink.close();
  });

  it('SIGTERM with answers that do not come: the messages in flight are cut off after a few seconds and recorded unknown', async () => {
    const sink = await startSink({ behaviour: () => new Promise((done) => setTimeout(() => done('accept'), 30_000)), parse: false });
    const root = project({ 'many.csv': many(50) });
    const run = sending(root, sink.url);
    await expect.poll(() => sink.attempts.size, { timeout: 20_000, interval: 10 }).toBe(3);
    await new Promise((done) => setTimeout(done, 200)); // the three messages are out whole, waiting
    const signalled = Date.now();
    run.child.kill('SIGTERM');
    const result = await run.exited;
    expect(result.code).toBe(143);
    expect(result.at - signalled).toBeLessThan(10_000);
    expect(JSON.parse(result.stdout)).toMatchObject({ stopped: true, sent: 0, unknown: 3, unknownNow: 3, pending: 47 });
    await sink.close();
  });

  it('a second signal stops at once', async () => {
    // Answers so slow that waiting for them would take far longer than the test allows.
    const sink = await startSink({ behaviour: () => new Promise((done) => setTimeout(() => done('accept'), 30_000)), parse: false });
    const root = project({ 'many.csv': many(50) });
    const run = sending(root, sink.url);
    await expect.poll(() => sink.attempts.size, { timeout: 20_000, interval: 10 }).toBeGreaterThan(2);
    run.child.kill('SIGINT');
    await new Promise((done) => setTimeout(done, 300));
    const again = Date.now();
    run.child.kill('SIGINT');
    const result = await run.exited;
    expect(result.code).toBe(130);
    expect(result.at - again).toBeLessThan(2_000);
    // Those in flight were handed over and never answered: the next run calls them unknown, sends them no second copy.
    const next = await send(root, ['issues/week.md', '--to', 'many.csv', '--db', sqlite(root), '--smtp', sink.url, '--timeout', '1', '--attempts', '1', '--limit', '0']);
    expect(JSON.parse(next.stdout).unknownNow).toBeGreaterThan(0);
    // Each keeps the Message-ID it was sent with: what to look for in the server's log before --retry-unknown.
    const status = JSON.parse((await runCli(['status', 'week', '--db', sqlite(root), '--json', '--failed'], { cwd: root })).stdout);
    const unknown = status.problems.filter((p: { state: string }) => p.state === 'unknown');
    expect(unknown.length).toBeGreaterThan(0);
    for (const problem of unknown) expect(problem.messageId).toMatch(/^<.+@gazette\.example>$/);
    await sink.close();
  });
});

describe('exit status', () => {
  it('is documented in send --help', async () => {
    const help = await runCli(['send', '--help']);
    expect(help.stdout).toMatch(/^Exit status:$/m);
    for (const status of ['0', '75', '1']) expect(help.stdout).toMatch(new RegExp(`^  ${status}\\s`, 'm'));
    expect(help.stdout).toContain('--timeout <seconds>');
  });

  it('is 0 when every reader is final, a hard bounce included', async () => {
    const sink = await startSink({ behaviour: (to) => (to === 'ana@example.org' ? { code: 550, message: '5.1.1 No such user' } : 'accept') });
    const root = project();
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url]);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 2, failed: 1 });
    expect(result.code).toBe(0);
    await sink.close();
  });

  it('is 75 while readers are deferred, and 0 once a later run has delivered them', async () => {
    let open = false;
    const sink = await startSink({ behaviour: (to) => (to === 'cy@example.org' && !open ? { code: 451, message: '4.7.1 Try later' } : 'accept') });
    const root = project();
    const first = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url, '--attempts', '1']);
    expect(first.code).toBe(75);
    open = true;
    const second = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url, '--attempts', '1']);
    expect(JSON.parse(second.stdout)).toMatchObject({ sent: 1, deferred: 0 });
    expect(second.code).toBe(0);
    await sink.close();
  });

  it('is 75 when --limit leaves readers for a later run', async () => {
    const sink = await startSink();
    const root = project();
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url, '--limit', '2']);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 2, pending: 1 });
    expect(result.code).toBe(75);
    await sink.close();
  });

  it('is 1 for an error, said in one line: a server that is down, a malformed SMTP URL (password never shown)', async () => {
    const root = project();
    const down = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', 'smtp://127.0.0.1:1']);
    expect(down.code).toBe(1);
    const malformed = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', 'smtp://editor:hunter2@mail.example:notaport']);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).not.toContain('hunter2');
    expect(malformed.stderr).toBe('digest: the SMTP URL smtp://editor:***@mail.example:notaport is not a valid URL (expected smtp://user:password@host:port or smtps://…)\n');
    const wrongScheme = await send(root, ['issues/week.md', '--to', 'readers.csv', '--smtp', 'http://mail.example']);
    expect(wrongScheme.stderr).toMatch(/must start with smtp:\/\/ or smtps:\/\//);
  });
});

describe('loose ends', () => {
  it('a dry run needs no SMTP server', async () => {
    const root = project();
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', 'smtp://127.0.0.1:1', '--dry-run']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ dryRun: true, recipients: 3 });
  });

  it('a named issue not due yet is refused under --yes, and sent with --ignore-schedule or a --now past it', async () => {
    const sink = await startSink();
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const root = project();
    const { readFileSync, writeFileSync } = await import('node:fs');
    const file = join(root, 'issues', 'week.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/send_at: .*/, `send_at: ${future}`));
    const args = ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url];
    const refused = await send(root, args);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`digest: week is not due yet: it is scheduled for ${future}; send it then with --due, or now with --ignore-schedule\n`);
    expect(sink.received).toHaveLength(0);
    const early = await send(root, [...args, '--ignore-schedule']);
    expect(JSON.parse(early.stdout)).toMatchObject({ sent: 3 });
    await sink.close();
  });

  it('retries print no MaxListenersExceededWarning', async () => {
    const sink = await startSink({ behaviour: (to, attempt) => (to === 'ana@example.org' && attempt < 12 ? { code: 451, message: '4.7.1 Greylisted' } : 'accept') });
    const root = project();
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url, '--attempts', '12', '--retry-delay', '1']);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 3 });
    expect(result.stderr).not.toMatch(/Warning/);
    await sink.close();
  });
});
