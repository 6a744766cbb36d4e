import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sendgridChannel } from '../../../src/delivery/channels/sendgrid.js';
import { sendgridError, startSendgrid } from '../../providers/sendgrid.js';
import { channelSettings, messageSource, readers } from './messages.js';
import { providerContract } from './provider-contract.js';

const key = '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';

describe('the SendGrid channel', () => {
  providerContract({
    start: () => startSendgrid(key),
    open: (server, settings) => sendgridChannel(`sendgrid://${key}@api.sendgrid.com?endpoint=${server.url}`, settings),
    openWithBadKey: (server, settings) => sendgridChannel(`sendgrid://bad-key@api.sendgrid.com?endpoint=${server.url}`, settings),
    kept: (server) =>
      server.accepted.map((m) => ({
        to: m.to[0]!.email,
        html: m.content.find((c) => c.type === 'text/html')?.value ?? '',
        text: m.content.find((c) => c.type === 'text/plain')?.value ?? '',
        listUnsubscribe: m.headers['List-Unsubscribe'],
        listUnsubscribePost: m.headers['List-Unsubscribe-Post'],
      })),
    invalidRecipient: () => sendgridError(400, 'Does not contain a valid address.', 'personalizations.0.to.0.email'),
    invalidRecipientBounces: true,
    droppedAfterBody: 'unknown',
    secret: key,
    // SendGrid's reset is a Unix time in seconds.
    rateLimitHeaders: () => ({ 'x-ratelimit-limit': '600', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 1) }),
  });
});

describe('the SendGrid channel’s own terms', () => {
  const build = messageSource();
  let server: Awaited<ReturnType<typeof startSendgrid>>;
  beforeEach(async () => {
    server = await startSendgrid(key);
  });
  afterEach(() => server.close());
  const open = () => sendgridChannel(`sendgrid://${key}@api.sendgrid.com?endpoint=${server.url}`, channelSettings());

  it('replies with the X-Message-Id and sends the reader’s name, our Message-ID, and no tracking', async () => {
    const [message] = build(readers(1));
    const { reply } = await open().deliver(message!);
    const [kept] = server.accepted;
    expect(reply).toBe(`sendgrid 202 ${kept!.id}`);
    expect(kept!.to).toEqual([{ email: 'r0@readers.example', name: 'Zoë "Z" Ørsted, Jr.' }]);
    expect(kept!.from).toEqual({ email: 'news@gazette.example', name: 'Test Gazette' });
    expect(kept!.headers['Message-ID']).toBe(message!.messageId);
    expect(kept!.content.map((c) => c.type)).toEqual(['text/plain', 'text/html']);
    expect(kept!.trackingSettings).toEqual({
      click_tracking: { enable: false, enable_text: false },
      open_tracking: { enable: false },
      subscription_tracking: { enable: false },
    });
  });

  it('refuses at verify() a key without the mail.send scope', async () => {
    const readOnly = await startSendgrid(key, ['scopes.read', 'stats.read']);
    const channel = sendgridChannel(`sendgrid://${key}@api.sendgrid.com?endpoint=${readOnly.url}`, channelSettings());
    await expect(channel.verify()).rejects.toMatchObject({ code: 'route-unavailable', message: expect.stringMatching(/mail\.send/) });
    await readOnly.close();
  });

  it('takes a sender SendGrid will not send for (a 403, or a 400 on `from`) for the route down, and a message too large for failed', async () => {
    const channel = open();
    const [message] = build(readers(1));
    const cases = [
      [sendgridError(403, 'The from address does not match a verified Sender Identity.', 'from'), 'down'],
      [sendgridError(400, 'The from email does not contain a valid address.', 'from.email'), 'down'],
      [sendgridError(401, 'Maximum credits exceeded', null), 'down'],
      [sendgridError(413, 'The JSON payload you have included in your request is too large.', null), 'failed'],
      [sendgridError(400, 'The content value must be a string at least one character in length.', 'content.0.value'), 'failed'],
    ] as const;
    for (const [refusal, kind] of cases) {
      server.faults = { answer: () => refusal };
      const error = await channel.deliver(message!).catch((failure: unknown) => failure);
      expect(channel.classify(error), JSON.stringify(refusal.body)).toMatchObject({ kind, ...(kind === 'failed' ? { bounce: false } : {}) });
    }
  });

  it('takes the key from SENDGRID_API_KEY, and sends to the EU API for region=eu', async () => {
    await sendgridChannel(`sendgrid://?endpoint=${server.url}`, channelSettings({ env: { SENDGRID_API_KEY: key } })).verify();
    expect(sendgridChannel('sendgrid://?region=eu', channelSettings()).description).toBe('sendgrid (api.eu.sendgrid.com)');
    await expect(sendgridChannel('sendgrid://', channelSettings()).verify()).rejects.toMatchObject({ message: expect.stringMatching(/SENDGRID_API_KEY/) });
  });
});
