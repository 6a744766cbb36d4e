/**
 * The SES channel through the real AWS SDK, against a local stand-in for the SESv2 API
 * (tests/providers/ses.ts) that checks SigV4 signatures and answers errors as the service does.
 */
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Channel, ChannelSettings } from '../../../src/delivery/channels/channel.js';
import { openChannel } from '../../../src/delivery/channels/index.js';
import { parseSesUrl, sesChannel } from '../../../src/delivery/channels/ses.js';
import { DkimSigner } from '../../../src/delivery/dkim.js';
import type { OutgoingMessage } from '../../../src/delivery/message.js';
import { failOnWarnings, tempProject } from '../../helpers.js';
import { messageSource } from './messages.js';
import { startSes, TEST_KEYS, type SesAnswer, type SesBehaviour } from '../../providers/ses.js';

// The SDK warns about Node versions it will drop; the channel keeps that out of a send.
failOnWarnings();

const build = messageSource();
const root = tempProject();
const message = (i: number): OutgoingMessage => build([{ email: `r${i}@example.org`, name: `Reader ${i}`, attributes: {} }])[0]!;
const env = { AWS_ACCESS_KEY_ID: TEST_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_KEYS.secretAccessKey };
const settings = (extra: Partial<ChannelSettings> = {}): ChannelSettings => ({ concurrency: 4, timeoutMs: 5_000, env, slug: 'week', root, ...extra });

/** Servers and channels made by a test, closed after it whatever happened. */
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
async function server(behaviour?: SesBehaviour, options: { region?: string; retryAfter?: number } = {}) {
  const ses = await startSes({ behaviour, ...options });
  cleanup.push(() => ses.close());
  return ses;
}
function channel(url: string, extra: Partial<ChannelSettings> = {}): Channel {
  const made = sesChannel(url, settings(extra));
  cleanup.push(() => made.abort());
  return made;
}
/** The failure a delivery rejects with, and what the channel makes of it. */
async function failure(ses: Channel, outgoing: OutgoingMessage) {
  const error = await ses.deliver(outgoing).then(
    () => expect.unreachable('the delivery should have failed'),
    (error: unknown) => error,
  );
  return { error, verdict: ses.classify(error) };
}

describe('ses:// URLs', () => {
  it('name a region, and may name a configuration set and an endpoint', () => {
    expect(parseSesUrl('ses://eu-west-1')).toEqual({ region: 'eu-west-1', description: 'ses (eu-west-1)' });
    expect(parseSesUrl('ses://us-gov-west-1?configuration_set=news&endpoint=https://vpce-1.email.us-gov-west-1.vpce.amazonaws.com')).toMatchObject({
      region: 'us-gov-west-1',
      configurationSet: 'news',
      endpoint: 'https://vpce-1.email.us-gov-west-1.vpce.amazonaws.com',
    });
  });

  it('are refused, credentials left out of the message, when they cannot be used', () => {
    expect(() => parseSesUrl('ses://')).toThrow(/names no AWS region/);
    expect(() => parseSesUrl('ses://eu-west')).toThrow(/names no AWS region/);
    expect(() => parseSesUrl('ses://eu-west-1?configuration-set=x')).toThrow(/unknown or empty setting "configuration-set"/);
    expect(() => parseSesUrl('ses://eu-west-1?endpoint=127.0.0.1:4566')).toThrow(/setting "endpoint"/);
    let error: unknown;
    try {
      parseSesUrl('ses://AKIDEXAMPLE:very-secret@eu-west-1');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'invalid-delivery-url', message: expect.stringMatching(/must not hold credentials/) });
    expect(String((error as Error).message)).not.toContain('very-secret');
  });

  it('open through the registry, which loads the SDK only then', async () => {
    const opened = await openChannel('ses://eu-west-1', settings());
    cleanup.push(() => opened.close());
    expect(opened).toMatchObject({ description: 'ses (eu-west-1)', real: true, internationalOk: false });
  });
});

describe('the SES channel', () => {
  it('delivers each message once, as the factory built it, to the recipients of its envelope', async () => {
    const ses = await server();
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}&configuration_set=digest`);
    await route.verify();
    const messages = Array.from({ length: 24 }, (_, i) => message(i));
    const deliveries = await Promise.all(messages.map((outgoing) => route.deliver(outgoing, { key: outgoing.envelope.to[0] })));
    route.close();

    expect(ses.received).toHaveLength(24);
    expect([...ses.perRecipient().values()].every((copies) => copies === 1)).toBe(true);
    for (const [i, outgoing] of messages.entries()) {
      const got = ses.received.find((received) => received.recipients[0] === outgoing.envelope.to[0])!;
      expect(got.recipients).toEqual([`r${i}@example.org`]);
      expect(got.from).toBe('news@gazette.example');
      expect(got.configurationSet).toBe('digest');
      expect(got.raw.equals(outgoing.raw)).toBe(true);
      expect((got.parsed!.headers.get('list') as { unsubscribe?: { url?: string } }).unsubscribe?.url).toMatch(/^https:\/\/gazette\.example\/u/);
      expect(got.parsed!.messageId).toBe(outgoing.messageId);
      expect(deliveries[i]!.reply).toBe(`ses ${got.messageId}`);
    }
  });

  it('signs with the DKIM key when one is set, verifiably, over the factory’s bytes', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dkim = new DkimSigner({ domainName: 'gazette.example', keySelector: 'news2024', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    const ses = await server();
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`, { dkim });
    const outgoing = message(1);
    await route.deliver(outgoing);
    const raw = ses.received[0]!.raw;
    expect(raw.toString('latin1')).toMatch(/^DKIM-Signature: /);
    expect(raw.subarray(raw.length - outgoing.raw.length).equals(outgoing.raw)).toBe(true);
    const record = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
    const verdict = await dkimVerify(raw, {
      resolver: async (name: string, type: string) => {
        if (name === 'news2024._domainkey.gazette.example' && type === 'TXT') return [[record]];
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      },
    });
    expect(verdict.results[0]!.status.result).toBe('pass');
  });

  it('waits out throttling, all deliveries pausing together, and sends no message twice', async () => {
    // Every message is refused twice with 429 before it is taken.
    const ses = await server((_recipient, attempt) => (attempt <= 2 ? 'throttle' : 'accept'));
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    const messages = Array.from({ length: 8 }, (_, i) => message(i));
    await Promise.all(messages.map((outgoing) => route.deliver(outgoing)));
    expect(ses.received).toHaveLength(8);
    expect([...ses.perRecipient().values()]).toEqual(Array(8).fill(1));
    expect(ses.calls.filter((call) => call.error === 'TooManyRequestsException')).toHaveLength(16);
  });

  it('gives up on a throttled message after a few waits: retry, never a second copy', async () => {
    const ses = await server(() => 'throttle');
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    const { verdict } = await failure(route, message(1));
    expect(verdict).toMatchObject({ kind: 'retry', reply: expect.stringMatching(/TooManyRequestsException \(HTTP 429\)/) });
    expect(ses.attempts.get('r1@example.org')).toBe(6);
  });

  it('takes the route down at once when the daily quota is used up: no wait helps', async () => {
    const ses = await server(() => 'quota');
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    const { verdict } = await failure(route, message(1));
    expect(verdict).toMatchObject({ kind: 'down', reply: expect.stringMatching(/daily sending quota/) });
    expect(ses.attempts.get('r1@example.org')).toBe(1);
  });

  it('calls a 500 a reason to retry', async () => {
    const ses = await server(() => 'error500');
    const { verdict } = await failure(channel(`ses://us-east-1?endpoint=${ses.endpoint}`), message(1));
    expect(verdict).toMatchObject({ kind: 'retry', reply: expect.stringMatching(/InternalFailure \(HTTP 500\)/) });
  });

  it('calls unknown a message whose whole request went out and whose answer never came', async () => {
    const ses = await server(() => 'drop');
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    const { verdict } = await failure(route, message(1));
    expect(verdict.kind).toBe('unknown');
    expect(ses.unanswered).toEqual(['r1@example.org']);
    expect(ses.attempts.get('r1@example.org')).toBe(1);
  });

  it('calls unknown a message whose answer did not come within the timeout', async () => {
    const ses = await server(() => 'silent');
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`, { timeoutMs: 300 });
    const started = Date.now();
    const { verdict } = await failure(route, message(1));
    expect(verdict.kind).toBe('unknown');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('fails a rejected message for that reader alone, not as a bounce', async () => {
    const rejected: SesAnswer = { status: 400, type: 'MessageRejected', message: 'Email address is not verified. The following identities failed the check in region US-EAST-1: r2@example.org' };
    const ses = await server((recipient) => (recipient === 'r2@example.org' ? rejected : 'accept'));
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    const { verdict } = await failure(route, message(2));
    expect(verdict).toMatchObject({ kind: 'failed', bounce: false, reply: expect.stringMatching(/^MessageRejected \(HTTP 400\): Email address is not verified/) });
    await route.deliver(message(3));
    expect(ses.received.map((received) => received.recipients[0])).toEqual(['r3@example.org']);
  });

  it('takes the route down when SES rejects the sender itself, or the account, or the configuration set', async () => {
    const unverifiedSender: SesAnswer = { status: 400, type: 'MessageRejected', message: 'Email address is not verified. The following identities failed the check in region US-EAST-1: news@gazette.example' };
    const paused: SesAnswer = { status: 400, type: 'SendingPausedException', message: 'Sending is paused for this account.' };
    const mailFrom: SesAnswer = { status: 400, type: 'MailFromDomainNotVerifiedException', message: 'MAIL FROM domain is not verified.' };
    const badRequest: SesAnswer = { status: 400, type: 'BadRequestException', message: 'Invalid content.' };
    const answers: Record<string, SesAnswer> = { 'r1@example.org': unverifiedSender, 'r2@example.org': paused, 'r3@example.org': mailFrom, 'r4@example.org': badRequest };
    const ses = await server((recipient) => answers[recipient] ?? 'accept');
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    expect((await failure(route, message(1))).verdict).toMatchObject({ kind: 'down', reply: expect.stringMatching(/sender's address is not verified/) });
    expect((await failure(route, message(2))).verdict).toMatchObject({ kind: 'down', reply: expect.stringMatching(/sending is paused/) });
    expect((await failure(route, message(3))).verdict).toMatchObject({ kind: 'down', reply: expect.stringMatching(/MAIL FROM domain/) });
    expect((await failure(route, message(4))).verdict).toMatchObject({ kind: 'failed', bounce: false });

    ses.account.EnforcementStatus = 'SHUTDOWN';
    expect((await failure(route, message(5))).verdict).toMatchObject({ kind: 'down', reply: expect.stringMatching(/AccountSuspendedException/) });
    await expect(route.verify()).rejects.toMatchObject({ code: 'route-unavailable', message: expect.stringMatching(/shut down/) });
    ses.account.EnforcementStatus = 'HEALTHY';
    ses.account.SendingEnabled = false;
    await expect(route.verify()).rejects.toMatchObject({ code: 'route-unavailable', message: expect.stringMatching(/sending is paused for this AWS account in us-east-1/) });

    ses.account.SendingEnabled = true;
    const missingSet = channel(`ses://us-east-1?endpoint=${ses.endpoint}&configuration_set=nosuch`);
    expect((await failure(missingSet, message(6))).verdict).toMatchObject({ kind: 'down', reply: expect.stringMatching(/configuration set does not exist/) });
  });

  it('refuses credentials AWS does not accept at verify(), without ever showing the secret key', async () => {
    const ses = await server();
    const secret = 'wrong/secret+that-must-never-be-printed-9876';
    for (const [keys, type] of [
      [{ AWS_ACCESS_KEY_ID: TEST_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: secret }, 'InvalidSignatureException'],
      [{ AWS_ACCESS_KEY_ID: 'AKIDUNKNOWN000000000', AWS_SECRET_ACCESS_KEY: secret }, 'UnrecognizedClientException'],
    ] as const) {
      const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`, { env: keys });
      const error = await route.verify().then(
        () => expect.unreachable('verify() should have refused'),
        (error: unknown) => error,
      );
      expect(error).toMatchObject({ code: 'route-unavailable', message: expect.stringMatching(new RegExp(`^cannot send through ses \\(us-east-1 at http://127\\.0\\.0\\.1:\\d+\\): AWS refused the credentials: ${type} \\(HTTP 403\\)`)) });
      // Nowhere: not the message, not the cause, not anything an inspection of the error would print.
      expect(inspect(error, { depth: 20, showHidden: true })).not.toContain(secret);
      expect(JSON.stringify(error)).not.toContain(secret);
      const { verdict } = await failure(route, message(1));
      expect(verdict).toMatchObject({ kind: 'down', reply: expect.stringMatching(/AWS refused the credentials/) });
      expect(inspect(verdict, { depth: 20 })).not.toContain(secret);
    }
    expect(ses.received).toHaveLength(0);
  });

  it('signs for the region of the URL: another region’s endpoint refuses it', async () => {
    const ses = await server(undefined, { region: 'eu-west-1' });
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    await expect(route.verify()).rejects.toMatchObject({ code: 'route-unavailable', message: expect.stringMatching(/scoped to a valid region/) });
    await channel(`ses://eu-west-1?endpoint=${ses.endpoint}`).verify();
  });

  it('retries a message cut off before its whole request was out: SES cannot have acted on it', async () => {
    const ses = await server();
    ses.faults.cutShort = true;
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    // Larger than the socket buffers on both sides, so the cut comes while it is still being written.
    const big = { ...message(1), raw: Buffer.alloc(24 * 1024 * 1024, 'x') } as OutgoingMessage;
    const { verdict } = await failure(route, big);
    expect(verdict.kind).toBe('retry');
    expect(ses.calls.map((call) => call.error)).toEqual(['cut']);
  });

  it('lets verify() pass when the key may send but not read the account (a common IAM policy)', async () => {
    const ses = await server();
    ses.faults.denyAccountRead = true;
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    await route.verify();
    await route.deliver(message(1));
    expect(ses.received).toHaveLength(1);
  });

  it('calls an endpoint that does not answer as SES does down, not each reader failed', async () => {
    const { createServer } = await import('node:http');
    const other = createServer((_request, response) => response.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>Not Found</h1>'));
    await new Promise<void>((ready) => other.listen(0, '127.0.0.1', () => ready()));
    cleanup.push(() => new Promise((done) => other.close(done)));
    const route = channel(`ses://us-east-1?endpoint=http://127.0.0.1:${(other.address() as { port: number }).port}`);
    await expect(route.verify()).rejects.toMatchObject({ code: 'route-unavailable', message: expect.stringMatching(/did not answer as SES does/) });
    expect((await failure(route, message(1))).verdict).toMatchObject({ kind: 'down', reply: expect.stringMatching(/HTTP 404/) });
  });

  it('calls a route with nothing listening down, at verify() and at delivery', async () => {
    const ses = await server();
    await ses.close();
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    await expect(route.verify()).rejects.toMatchObject({ code: 'route-unavailable', message: expect.stringMatching(/not reachable: ECONNREFUSED/) });
    expect((await failure(route, message(1))).verdict.kind).toBe('down');
  });

  it('sends nothing before ready says yes, and nothing at all when it says no', async () => {
    const ses = await server();
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    await expect(route.deliver(message(1), { ready: Promise.resolve(false) })).rejects.toMatchObject({ abandoned: true });
    await expect(route.deliver(message(2), { ready: Promise.reject(new Error('database gone')) })).rejects.toMatchObject({ abandoned: true });
    let readyAt = 0;
    const ready = new Promise<boolean>((done) => setTimeout(() => ((readyAt = Date.now()), done(true)), 200));
    const callsBefore = ses.calls.length;
    const delivery = route.deliver(message(3), { ready });
    await new Promise((done) => setTimeout(done, 100));
    expect(ses.calls.length).toBe(callsBefore);
    await delivery;
    expect(ses.received.map((received) => received.recipients[0])).toEqual(['r3@example.org']);
    expect(ses.received[0]!.at).toBeGreaterThanOrEqual(readyAt);
  });

  it('ends an in-flight request at abort(), at once: unknown, as SES has the whole request', async () => {
    const ses = await server(() => new Promise<SesAnswer>((done) => setTimeout(() => done('accept'), 5_000)));
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    const delivery = route.deliver(message(1)).then(
      () => expect.unreachable('the delivery should have been aborted'),
      (error: unknown) => error,
    );
    await expect.poll(() => ses.attempts.get('r1@example.org')).toBe(1);
    const aborted = Date.now();
    route.abort();
    const error = await delivery;
    expect(Date.now() - aborted).toBeLessThan(200);
    expect(route.classify(error).kind).toBe('unknown');
    // A channel that was stopped takes nothing more; nothing of that reached SES.
    expect(route.classify((await failure(route, message(2))).error).kind).toBe('retry');
    expect(ses.attempts.get('r2@example.org')).toBeUndefined();
  });

  it('honours a Retry-After that comes with throttling', async () => {
    const ses = await server((_recipient, attempt) => (attempt === 1 ? 'throttle' : 'accept'), { retryAfter: 1 });
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    const started = Date.now();
    await route.deliver(message(1));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(ses.received).toHaveLength(1);
  });

  it('ends a delivery waiting out throttling at abort(): retry, as SES took nothing', async () => {
    // Retry-After holds the delivery in its pause for a second: the abort lands there, not on a request.
    const ses = await server(() => 'throttle', { retryAfter: 1 });
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    const delivery = route.deliver(message(1)).then(
      () => expect.unreachable('the delivery should have been aborted'),
      (error: unknown) => error,
    );
    await expect.poll(() => ses.calls.filter((call) => call.error === 'TooManyRequestsException').length).toBe(1);
    await new Promise((done) => setTimeout(done, 200));
    const aborted = Date.now();
    route.abort();
    expect(route.classify(await delivery).kind).toBe('retry');
    expect(Date.now() - aborted).toBeLessThan(200);
    expect(ses.attempts.get('r1@example.org')).toBe(1);
  });

  it('finishes the deliveries under way at close()', async () => {
    const ses = await server(() => new Promise<SesAnswer>((done) => setTimeout(() => done('accept'), 200)));
    const route = channel(`ses://us-east-1?endpoint=${ses.endpoint}`);
    const delivery = route.deliver(message(1));
    await expect.poll(() => ses.attempts.get('r1@example.org')).toBe(1);
    route.close();
    await expect(delivery).resolves.toMatchObject({ reply: expect.stringMatching(/^ses 0100019/) });
  });
});
