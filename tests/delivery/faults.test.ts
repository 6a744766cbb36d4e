import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/audience/open.js';
import { bin, runCli } from '../helpers.js';
import { startSink } from '../smtp-sink.js';
import { project, SECRET, send } from './project.js';

const fast = ['--retry-delay', '20', '--attempts', '3'];
const sqlite = (root: string) => `sqlite:${join(root, 'digest.db')}`;

describe('when the SMTP server misbehaves', () => {
  it('retries a greylisted reader (451) within the run and sends one copy', async () => {
    const sink = await startSink({ behaviour: (to, attempt) => (to === 'bo@example.org' && attempt < 3 ? { code: 451, message: '4.7.1 Greylisted, try again later' } : 'accept') });
    const root = project();
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url, ...fast]);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 3, deferred: 0 });
    expect(sink.attempts.get('bo@example.org')).toBe(3);
    expect(sink.perRecipient().get('bo@example.org')).toBe(1);
    await sink.close();
  });

  it('leaves a reader deferred after the last 4xx, and the next run delivers', async () => {
    let open = false;
    const sink = await startSink({ behaviour: (to) => (to === 'cy@example.org' && !open ? { code: 452, message: '4.2.2 Mailbox full' } : 'accept') });
    const root = project();
    const first = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url, ...fast]);
    expect(JSON.parse(first.stdout)).toMatchObject({ sent: 2, deferred: 1 });
    const status = JSON.parse((await runCli(['status', 'week', '--db', sqlite(root), '--json', '--failed'], { cwd: root })).stdout);
    expect(status.problems).toEqual([expect.objectContaining({ email: 'cy@example.org', state: 'deferred', reply: expect.stringContaining('452 4.2.2 Mailbox full') })]);
    open = true;
    const second = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url, ...fast]);
    expect(JSON.parse(second.stdout)).toMatchObject({ sent: 1, alreadySent: 2, deferred: 0 });
    expect([...sink.perRecipient().values()]).toEqual([1, 1, 1]);
    await sink.close();
  });

  it('fails a 5xx reader without retrying, and a 5.1.x bounce marks the subscriber bounced', async () => {
    const sink = await startSink({ behaviour: (to) => (to === 'ana@example.org' ? { code: 550, message: '5.1.1 No such user here' } : 'accept') });
    const root = project();
    const db = sqlite(root);
    const first = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', db, '--smtp', sink.url, ...fast]);
    expect(JSON.parse(first.stdout)).toMatchObject({ sent: 2, failed: 1 });
    expect(sink.attempts.get('ana@example.org')).toBe(1);
    const store = await openStore(db);
    expect((await store.get('ana@example.org'))?.status).toBe('bounced');
    await store.close();
    await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', db, '--smtp', sink.url, ...fast]);
    expect(sink.attempts.get('ana@example.org')).toBe(1);
    await sink.close();
  });

  it('after the connection drops in the middle of DATA, delivers once or reports unknown, never twice', async () => {
    const sink = await startSink({ behaviour: (to, attempt) => (to === 'ana@example.org' && attempt === 1 ? 'drop' : 'accept') });
    const root = project();
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url, ...fast]);
    const summary = JSON.parse(result.stdout);
    // Whether the client had handed over the whole message when the line went dead depends on the
    // socket's buffers: if it had not, the message cannot have arrived and is sent again; if it had,
    // the server might have it, and it is unknown. Either way the two sides agree.
    if (summary.unknown) {
      expect(summary).toMatchObject({ sent: 2, unknown: 1 });
      expect(sink.perRecipient().get('ana@example.org')).toBeUndefined();
    } else {
      expect(summary).toMatchObject({ sent: 3, deferred: 0 });
      expect(sink.perRecipient().get('ana@example.org')).toBe(1);
    }
    await sink.close();
  });

  it('says so clearly when the server is down, and leaves the journal untouched', async () => {
    const sink = await startSink();
    await sink.close();
    const root = project();
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`digest: cannot send through smtp://127.0.0.1:${sink.port}: nothing is listening there\n`);
    // Refused before the database was opened: no journal, not even an empty file.
    expect(existsSync(join(root, 'digest.db'))).toBe(false);
  });

  it('says so when the credentials are wrong, without printing the password', async () => {
    const sink = await startSink({ auth: { user: 'editor', pass: 'right-password' } });
    const root = project();
    const url = sink.url.replace('right-password', 'wrong-password');
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^digest: cannot send through smtp:\/\/127\.0\.0\.1:\d+: the server refused the username or password\n$/);
    expect(result.stderr + result.stdout).not.toContain('wrong-password');
    const good = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', sqlite(root), '--smtp', sink.url]);
    expect(JSON.parse(good.stdout)).toMatchObject({ sent: 3 });
    await sink.close();
  });

  it('sends to an international address only where the server offers SMTPUTF8', async () => {
    const list = 'email,name,tags\nzoë@exämple.org,Zoë,local\nplain@example.org,Plain,local\n';
    for (const smtputf8 of [false, true]) {
      const sink = await startSink({ smtputf8 });
      const root = project({ 'intl.csv': list });
      const result = JSON.parse((await send(root, ['issues/week.md', '--to', 'intl.csv', '--db', sqlite(root), '--smtp', sink.url])).stdout);
      expect(result).toMatchObject(smtputf8 ? { sent: 2, failed: 0 } : { sent: 1, failed: 1 });
      if (!smtputf8) {
        const status = JSON.parse((await runCli(['status', 'week', '--db', sqlite(root), '--json', '--failed'], { cwd: root })).stdout);
        expect(status.problems[0]).toMatchObject({ email: 'zoë@exämple.org', reply: expect.stringContaining('SMTPUTF8') });
      }
      await sink.close();
    }
  });
});

describe('what a reader record cannot do to the message', () => {
  it('keeps CR/LF in a name out of the headers', async () => {
    const sink = await startSink();
    const root = project({ 'evil.csv': 'email,name,tags\nmallory@example.org,"Mal\r\nBcc: victim@example.org\r\nX-Evil: 1",local\n' });
    const result = await send(root, ['issues/week.md', '--to', 'evil.csv', '--db', sqlite(root), '--smtp', sink.url]);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 1 });
    const [message] = sink.received;
    expect(message!.parsed.headers.has('bcc')).toBe(false);
    expect(message!.parsed.headers.has('x-evil')).toBe(false);
    expect(message!.parsed.to).toMatchObject({ value: [{ address: 'mallory@example.org' }] });
    await sink.close();
  });
});

describe('a send killed mid-way', () => {
  it('is finished by the next run with nobody getting two copies; an interrupted message is unknown, not resent', async () => {
    const readers = Array.from({ length: 300 }, (_, i) => `reader${String(i).padStart(3, '0')}@example.org,Reader ${i},local`).join('\n');
    const root = project({ 'many.csv': `email,name,tags\n${readers}\n` });
    // The server holds every reply a moment, so the kill lands while messages are in flight.
    const sink = await startSink({ behaviour: () => new Promise((done) => setTimeout(() => done('accept'), 15)) });
    const child = spawn(process.execPath, [bin, 'send', 'issues/week.md', '--to', 'many.csv', '--db', sqlite(root), '--smtp', sink.url, '--yes', '--concurrency', '4'], {
      cwd: root,
      env: { ...process.env, DIGEST_SECRET: SECRET, CI: '1' },
      stdio: 'ignore',
    });
    await expect.poll(() => sink.received.length, { timeout: 20_000, interval: 5 }).toBeGreaterThan(40);
    child.kill('SIGKILL');
    await new Promise((done) => child.on('exit', done));
    const before = sink.received.length;
    expect(before).toBeLessThan(300);

    const rerun = await send(root, ['issues/week.md', '--to', 'many.csv', '--db', sqlite(root), '--smtp', sink.url]);
    const summary = JSON.parse(rerun.stdout);
    // Let any reply still on the wire land before counting.
    await new Promise((done) => setTimeout(done, 200));
    const counts = sink.perRecipient();
    expect(Math.max(...counts.values())).toBe(1);
    expect(summary.alreadySent + summary.sent + summary.unknown).toBe(300);
    expect(counts.size).toBeGreaterThanOrEqual(300 - summary.unknown);
    if (summary.unknown) expect(rerun.stderr).toContain('marked unknown, not sent again');

    // With --retry-unknown the editor chooses to try those readers again.
    const retried = await send(root, ['issues/week.md', '--to', 'many.csv', '--db', sqlite(root), '--smtp', sink.url, '--retry-unknown']);
    expect(JSON.parse(retried.stdout)).toMatchObject({ unknown: 0, sent: summary.unknown });
    await sink.close();
  });
});
