import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, runCli, tempProject } from '../helpers.js';
import { startResend } from '../providers/resend.js';
import { startSink } from '../smtp-sink.js';
import { config, SECRET } from './project.js';

/** A list of `count` readers, r00@example.org onwards. */
function readers(count: number): string {
  const rows = Array.from({ length: count }, (_, i) => `r${String(i).padStart(2, "0")}@example.org,Reader ${i},subscribed,local`);
  return `email,name,status,tags\n${rows.join('\n')}\n`;
}

function project(extraConfig = '') {
  return tempProject({ 'issues/week.md': fixture('issues', 'complete.md'), 'readers.csv': readers(40) }, config + extraConfig);
}

const run = (root: string, args: string[], env: Record<string, string> = {}) =>
  runCli(args, { cwd: root, env: { DIGEST_SECRET: SECRET, ...env } });

const send = (root: string, args: string[], env: Record<string, string> = {}) =>
  run(root, ['send', 'issues/week.md', '--to', 'readers.csv', '--db', `sqlite:${join(root, 'digest.db')}`, '--yes', '--json', '--retry-delay', '20', ...args], env);

/** Which sink each reader's message reached, and how often. */
function deliveries(...sinks: Awaited<ReturnType<typeof startSink>>[]) {
  const seen = new Map<string, string[]>();
  for (const sink of sinks) for (const message of sink.received) seen.set(message.recipient, [...(seen.get(message.recipient) ?? []), `127.0.0.1:${sink.port}`]);
  return seen;
}

describe('failover across delivery routes', () => {
  it('moves on to the next route when the first stops taking connections halfway, and every reader gets one message', async () => {
    let closing: Promise<void> | undefined;
    let first: Awaited<ReturnType<typeof startSink>>;
    first = await startSink({
      parse: false,
      // At the twelfth reader the first server shuts down: it stops listening, finishes the
      // messages under way and answers any further command with 421.
      behaviour: () => {
        if (first.received.length >= 12) closing ??= first.close();
        return 'accept';
      },
    });
    const second = await startSink({ parse: false });
    const root = project();
    const result = await send(root, ['--via', first.url, '--via', second.url, '--concurrency', '3']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 40, failed: 0, deferred: 0, unknown: 0 });
    expect(result.stderr).toMatch(new RegExp(`smtp://127\\.0\\.0\\.1:${first.port} is down \\(.*\\); going on through smtp://127\\.0\\.0\\.1:${second.port}`));

    const seen = deliveries(first, second);
    expect(seen.size).toBe(40);
    expect([...seen.values()].every((where) => where.length === 1)).toBe(true);
    expect(first.received.length).toBeGreaterThanOrEqual(12);
    expect(second.received.length).toBeGreaterThan(0);

    // status says which route carried whom, and it is what the servers saw.
    const status = JSON.parse((await run(root, ['status', 'week', '--db', `sqlite:${join(root, 'digest.db')}`, '--readers', '--json'])).stdout);
    expect(status.routes).toEqual({ [`smtp://127.0.0.1:${first.port}`]: first.received.length, [`smtp://127.0.0.1:${second.port}`]: second.received.length });
    for (const reader of status.readers) {
      expect(reader.state).toBe('sent');
      expect(reader.route).toBe(`smtp://${seen.get(reader.email)![0]}`);
    }
    const text = (await run(root, ['status', 'week', '--db', `sqlite:${join(root, 'digest.db')}`])).stdout;
    expect(text).toMatch(/^ {2}sent through smtp:\/\/.*, smtp:\/\/.*$/m);
    expect(text).toContain(`smtp://127.0.0.1:${first.port}: ${first.received.length}`);
    expect(text).toContain(`smtp://127.0.0.1:${second.port}: ${second.received.length}`);
    await closing;
    await second.close();
  });

  it('takes a route down after a run of temporary failures (delivery.failAfter), with the routes from the config and their URLs from the environment', async () => {
    const busy = await startSink({ parse: false, behaviour: () => ({ code: 451, message: '4.3.2 System busy, try later' }) });
    const spare = await startSink({ parse: false });
    const root = project(`delivery:\n  routes:\n    - env: PRIMARY_SMTP_URL\n    - env: SPARE_SMTP_URL\n      concurrency: 2\n  failAfter: 3\n`);
    const result = await send(root, ['--concurrency', '1'], { PRIMARY_SMTP_URL: busy.url, SPARE_SMTP_URL: spare.url });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 40, deferred: 0 });
    expect(result.stderr).toContain('3 temporary failures in a row, the last: 451 4.3.2 System busy');
    expect(busy.received).toHaveLength(0);
    expect(spare.received).toHaveLength(40);
    expect(new Set(spare.received.map((message) => message.recipient)).size).toBe(40);
    await busy.close();
    await spare.close();
  });

  it('never sends a message through another route when the first may have accepted it (a lost answer under an idempotency key)', async () => {
    const resend = await startResend('re_failover_key');
    // The first message is taken by Resend and its answer lost; then Resend goes away altogether.
    resend.faults = { drop: { count: 1, process: true } };
    const backup = await startSink({ parse: false });
    const root = project();
    const sending = send(root, ['--via', `resend://?endpoint=${resend.url}`, '--via', backup.url, '--concurrency', '1', '--retry-delay', '1500'], { RESEND_API_KEY: 're_failover_key' });
    await expect.poll(() => resend.accepted.length, { timeout: 20_000, interval: 5 }).toBe(1);
    await resend.close();
    const result = await sending;
    const first = resend.accepted[0]!.to[0]!;
    expect(result.code).toBe(75);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 39, unknown: 1 });
    // Everyone else went through the backup; the one Resend may have delivered did not.
    expect(backup.received.map((message) => message.recipient)).not.toContain(first.replace(/^.*<|>$/g, ''));
    expect(new Set(backup.received.map((message) => message.recipient)).size).toBe(39);
    const status = JSON.parse((await run(root, ['status', 'week', '--db', `sqlite:${join(root, 'digest.db')}`, '--failed', '--json'])).stdout);
    expect(status.problems).toEqual([expect.objectContaining({ state: 'unknown', reply: expect.stringContaining('may have accepted this message before its answer was lost, and is down now') })]);
    await backup.close();
  });

  it('stops, with the readers kept for a later run, when every route is down', async () => {
    const gone = await startSink({ parse: false });
    await gone.close();
    const root = project();
    const result = await send(root, ['--via', gone.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot send through smtp:\/\/127\.0\.0\.1:\d+: nothing is listening there/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses credentials written into the config, and an unknown scheme, in one line each', async () => {
    const withPassword = project(`delivery:\n  routes:\n    - url: smtp://editor:hunter2@relay.example:587\n`);
    const refused = await send(withPassword, []);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/digest\.config\.yaml:\d+.*must not hold credentials/);
    expect(refused.stderr).not.toContain('hunter2');
    // An API key in the user part is a credential too.
    const withKey = await send(project(`delivery:\n  routes:\n    - url: resend://re_live_abc123@api.resend.com\n`), []);
    expect(withKey.code).toBe(1);
    expect(withKey.stderr).toMatch(/must not hold credentials/);
    expect(withKey.stderr).not.toContain('re_live_abc123');
    const unknown = await send(project(), ['--via', 'carrier-pigeon://loft']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^digest: the delivery URL carrier-pigeon:\/\/loft has no known scheme \(one of smtp:, smtps:, outbox:.*\)\n$/);
  });
});
