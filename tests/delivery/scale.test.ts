import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { onEachDatabase } from '../audience/databases.js';
import { fixture, runCli } from '../helpers.js';
import { startSink } from '../smtp-sink.js';
import { project, SECRET, send } from './project.js';

const many = (n: number) => `email,name,tags\n${Array.from({ length: n }, (_, i) => `r${i}@example.org,Reader ${i},local`).join('\n')}\n`;

onEachDatabase((target) => {
  describe('several senders at once', () => {
    it('three processes on one database serve every reader exactly once', async () => {
      const sink = await startSink({ behaviour: () => new Promise((done) => setTimeout(() => done('accept'), 2)) });
      const root = project({ 'many.csv': many(600) });
      const db = await target.fresh();
      const runs = await Promise.all([1, 2, 3].map(() => send(root, ['issues/week.md', '--to', 'many.csv', '--db', db, '--smtp', sink.url, '--concurrency', '2'])));
      for (const run of runs) expect(run.code, run.stderr).toBe(0);
      const summaries = runs.map((run) => JSON.parse(run.stdout));
      expect(summaries.reduce((total, s) => total + s.sent, 0)).toBe(600);
      const counts = sink.perRecipient();
      expect(counts.size).toBe(600);
      expect(Math.max(...counts.values())).toBe(1);
      if (target.kind === 'postgres') {
        // On PostgreSQL the work is shared out, not done by whoever got the lock first.
        expect(summaries.filter((s) => s.sent > 0).length).toBeGreaterThan(1);
      }
      await sink.close();
    });
  });
});

describe('digest send --due', () => {
  it('sends what has come due, once, and nothing that is not due yet', async () => {
    const sink = await startSink();
    const later = fixture('issues', 'complete.md').replace('send_at: 2024-03-08T07:00:00-05:00', 'send_at: 2024-03-15T07:00:00-05:00').replace('title: Bridge reopens, and the budget vote', 'title: Next week');
    const root = project({ 'issues/later.md': later, 'issues/unscheduled.md': '---\ntitle: Draft\ndate: 2024-03-20\n---\nNot yet.\n' });
    const db = `sqlite:${join(root, 'digest.db')}`;
    const args = ['--due', '--to', 'readers.csv', '--db', db, '--smtp', sink.url];

    const first = await send(root, [...args, '--now', '2024-03-09T00:00:00Z']);
    expect(JSON.parse(first.stdout).issues.map((s: { issue: string; sent: number }) => [s.issue, s.sent])).toEqual([['week', 3]]);
    const again = await send(root, [...args, '--now', '2024-03-09T00:00:00Z']);
    expect(JSON.parse(again.stdout).issues).toEqual([expect.objectContaining({ issue: 'week', sent: 0, alreadySent: 3 })]);
    const week2 = await send(root, [...args, '--now', '2024-03-16T00:00:00Z']);
    expect(JSON.parse(week2.stdout).issues.map((s: { issue: string; sent: number }) => [s.issue, s.sent])).toEqual([
      ['week', 0],
      ['later', 3],
    ]);
    expect(sink.received).toHaveLength(6);
    await sink.close();
  });
});

describe('DKIM', () => {
  it('signs every message, covering List-Unsubscribe and List-Unsubscribe-Post, verifiably', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sink = await startSink();
    const root = project();
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', `sqlite:${join(root, 'digest.db')}`, '--smtp', sink.url], {
      DIGEST_DKIM_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      DIGEST_DKIM_SELECTOR: 'news2024',
    });
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 3 });
    const record = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
    for (const message of sink.received) {
      // An independent verifier, given the public key in place of a DNS lookup.
      const verdict = await dkimVerify(message.raw, {
        resolver: async (name: string, type: string) => {
          if (name === 'news2024._domainkey.gazette.example' && type === 'TXT') return [[record]];
          throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
        },
      });
      const [signature] = verdict.results;
      expect(signature.status.result).toBe('pass');
      expect(signature.signingDomain).toBe('gazette.example');
      const signed = String(message.raw).match(/^DKIM-Signature:[\s\S]*?\bh=([^;]+);/m)![1]!.replace(/\s+/g, '').toLowerCase().split(':');
      expect(signed).toEqual(expect.arrayContaining(['from', 'subject', 'list-unsubscribe', 'list-unsubscribe-post', 'list-id']));
    }
    await sink.close();
  });
});

describe('rehearsals', () => {
  it('--test sends only to the given addresses, marked as a test, and records nothing', async () => {
    const sink = await startSink();
    const root = project();
    const db = `sqlite:${join(root, 'digest.db')}`;
    const result = await send(root, ['issues/week.md', '--test', 'me@example.org', 'you@example.org', '--db', db, '--smtp', sink.url]);
    expect(JSON.parse(result.stdout)).toMatchObject({ issue: 'week', test: true, sent: 2 });
    expect(sink.received.map((m) => [m.recipient, m.parsed.subject])).toEqual([
      ['me@example.org', '[TEST] Bridge reopens; budget vote Tuesday'],
      ['you@example.org', '[TEST] Bridge reopens; budget vote Tuesday'],
    ]);
    // A test send records nothing: the database is not even created.
    expect(existsSync(join(root, 'digest.db'))).toBe(false);
    await sink.close();
  });

  it('--dry-run counts and lists who would get it, and sends nothing', async () => {
    const root = project();
    const result = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', `sqlite:${join(root, 'digest.db')}`, '--dry-run']);
    expect(JSON.parse(result.stdout)).toEqual({ issue: 'week', dryRun: true, recipients: 3, alreadySent: 0, excluded: 1, addresses: ['ana@example.org', 'bo@example.org', 'cy@example.org'] });
  });

  it('a real send without a terminal needs --yes, and says so before sending anything', async () => {
    const sink = await startSink();
    const root = project();
    const result = await runCli(['send', 'issues/week.md', '--to', 'readers.csv', '--db', `sqlite:${join(root, 'digest.db')}`, '--smtp', sink.url], {
      cwd: root,
      env: { DIGEST_SECRET: SECRET },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^digest: about to send "Bridge reopens; budget vote Tuesday" to 3 readers via smtp:\/\/127\.0\.0\.1:\d+: add --yes to confirm without a terminal\n$/);
    expect(sink.received).toHaveLength(0);
    await sink.close();
  });

  it('a real send needs DIGEST_SECRET to sign unsubscribe links', async () => {
    const sink = await startSink();
    const root = project();
    const result = await runCli(['send', 'issues/week.md', '--to', 'readers.csv', '--db', `sqlite:${join(root, 'digest.db')}`, '--smtp', sink.url, '--yes'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DIGEST_SECRET must be set');
    expect(sink.received).toHaveLength(0);
    await sink.close();
  });
});

describe('headers in other scripts, and partial runs', () => {
  it('encodes non-ASCII subjects and names (RFC 2047) so they arrive as written', async () => {
    const sink = await startSink();
    const root = project({
      'issues/intl.md': fixture('issues', 'complete.md').replace('subject: Bridge reopens; budget vote Tuesday', 'subject: "Pont réouvert — vote du budget, Ørsted"'),
      'names.csv': 'email,name,tags\nzoe@example.org,Zoë Ångström,local\n',
    });
    const result = await send(root, ['issues/intl.md', '--to', 'names.csv', '--db', `sqlite:${join(root, 'digest.db')}`, '--smtp', sink.url]);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 1 });
    const [message] = sink.received;
    expect(message!.parsed.subject).toBe('Pont réouvert — vote du budget, Ørsted');
    expect(message!.parsed.to).toMatchObject({ value: [{ name: 'Zoë Ångström', address: 'zoe@example.org' }] });
    expect(message!.raw.toString('latin1').split('\r\n\r\n')[0]).toMatch(/^[\x00-\x7f]*$/);
    await sink.close();
  });

  it('--limit sends at most that many now; the next run carries on', async () => {
    const sink = await startSink();
    const root = project();
    const db = `sqlite:${join(root, 'digest.db')}`;
    const first = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', db, '--smtp', sink.url, '--limit', '2']);
    expect(JSON.parse(first.stdout)).toMatchObject({ sent: 2 });
    const status = JSON.parse((await runCli(['status', 'week', '--db', db, '--json'], { cwd: root })).stdout);
    expect(status).toMatchObject({ sent: 2, pending: 1 });
    const second = await send(root, ['issues/week.md', '--to', 'readers.csv', '--db', db, '--smtp', sink.url]);
    expect(JSON.parse(second.stdout)).toMatchObject({ sent: 1, alreadySent: 2 });
    expect(sink.received).toHaveLength(3);
    await sink.close();
  });
});
