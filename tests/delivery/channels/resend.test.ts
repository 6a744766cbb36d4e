import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resendChannel } from '../../../src/delivery/channels/resend.js';
import { resendError, startResend } from '../../providers/resend.js';
import { channelSettings, messageSource, readers } from './messages.js';
import { providerContract } from './provider-contract.js';

const key = 're_c1tpEyD8_NKFusih9vKVQknRAQfmFcWCv';

describe('the Resend channel', () => {
  providerContract({
    start: () => startResend(key),
    open: (server, settings) => resendChannel(`resend://${key}@?endpoint=${server.url}`, settings),
    openWithBadKey: (server, settings) => resendChannel(`resend://bad-key@?endpoint=${server.url}`, settings),
    kept: (server) =>
      server.accepted.map((m) => ({
        to: /<([^>]+)>$/.exec(m.to[0]!)?.[1] ?? m.to[0]!,
        html: m.html,
        text: m.text,
        listUnsubscribe: m.headers['List-Unsubscribe'],
        listUnsubscribePost: m.headers['List-Unsubscribe-Post'],
      })),
    invalidRecipient: () => resendError(400, 'validation_error', 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.'),
    invalidRecipientBounces: true,
    droppedAfterBody: 'retry',
    secret: key,
    rateLimitHeaders: () => ({ 'ratelimit-limit': '2', 'ratelimit-remaining': '0', 'ratelimit-reset': '1', 'retry-after': '1' }),
  });
});

describe('the Resend channel’s own terms', () => {
  const build = messageSource();
  let server: Awaited<ReturnType<typeof startResend>>;
  beforeEach(async () => {
    server = await startResend(key);
  });
  afterEach(() => server.close());
  const open = () => resendChannel(`resend://${key}@?endpoint=${server.url}`, channelSettings());

  it('sends each message with its Message-ID as the Idempotency-Key, so a repeat is not a second message', async () => {
    const [first, second] = build(readers(2));
    const channel = open();
    const replies = [await channel.deliver(first!), await channel.deliver(first!), await channel.deliver(second!)];
    expect(server.accepted.map((m) => m.idempotencyKey)).toEqual([first!.messageId, second!.messageId]);
    expect(replies[0]!.reply).toBe(replies[1]!.reply);
    expect(replies[0]!.reply).toMatch(/^resend 200 [0-9a-f-]{36}$/);
    expect(server.accepted[0]!.headers['Message-ID']).toBe(first!.messageId);
  });

  it('takes a spent quota for the route down at once, without waiting', async () => {
    server.faults = { answer: () => resendError(429, 'daily_quota_exceeded', 'You have reached your daily email sending quota.') };
    const channel = open();
    const started = performance.now();
    const error = await channel.deliver(build(readers(1))[0]!).catch((failure: unknown) => failure);
    expect(performance.now() - started).toBeLessThan(500);
    expect(server.requests).toHaveLength(1);
    expect(channel.classify(error).kind).toBe('down');
  });

  it('reads what Resend’s idempotency and sender refusals mean', async () => {
    const channel = open();
    const [message] = build(readers(1));
    const cases = [
      [resendError(409, 'concurrent_idempotent_requests', 'Same idempotency key used while original request is still in progress.'), 'retry'],
      [resendError(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.'), 'unknown'],
      [resendError(403, 'validation_error', 'The gazette.example domain is not verified. Please, add and verify your domain.'), 'down'],
      [resendError(422, 'invalid_from_address', 'Invalid `from` field.'), 'down'],
      [resendError(422, 'missing_required_field', 'Missing `subject` field.'), 'failed'],
    ] as const;
    for (const [refusal, kind] of cases) {
      server.faults = { answer: () => refusal };
      const error = await channel.deliver(message!).catch((failure: unknown) => failure);
      expect(channel.classify(error).kind, JSON.stringify(refusal.body)).toBe(kind);
    }
  });

  it('accepts at verify() a key restricted to sending', async () => {
    const sendingOnly = await startResend(key, { sendingOnly: true });
    await resendChannel(`resend://${key}@?endpoint=${sendingOnly.url}`, channelSettings()).verify();
    await sendingOnly.close();
  });

  it('takes the key from RESEND_API_KEY, and names the variable when there is none', async () => {
    await resendChannel(`resend://?endpoint=${server.url}`, channelSettings({ env: { RESEND_API_KEY: key } })).verify();
    expect(resendChannel('resend://', channelSettings()).description).toBe('resend (api.resend.com)');
    await expect(resendChannel('resend://', channelSettings()).verify()).rejects.toMatchObject({ message: expect.stringMatching(/RESEND_API_KEY/) });
  });
});
