import { generateKeyPairSync } from 'node:crypto';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mailgunChannel } from '../../../src/delivery/channels/mailgun.js';
import { DkimSigner } from '../../../src/delivery/dkim.js';
import { mailgunError, rawHeader, startMailgun } from '../../providers/mailgun.js';
import { channelSettings, messageSource, readers } from './messages.js';
import { providerContract } from './provider-contract.js';

const domain = 'mg.gazette.example';
const key = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0';

describe('the Mailgun channel', () => {
  providerContract({
    start: () => startMailgun(domain, key),
    open: (server, settings) => mailgunChannel(`mailgun://api:${key}@${domain}?endpoint=${server.url}`, settings),
    openWithBadKey: (server, settings) => mailgunChannel(`mailgun://api:bad-key@${domain}?endpoint=${server.url}`, settings),
    kept: (server) =>
      server.accepted.map((m) => ({
        to: m.to[0]!,
        html: String(m.parsed.html),
        text: m.parsed.text ?? '',
        listUnsubscribe: rawHeader(m.parsed, 'List-Unsubscribe'),
        listUnsubscribePost: rawHeader(m.parsed, 'List-Unsubscribe-Post'),
      })),
    invalidRecipient: () => mailgunError(400, "'to' parameter is not a valid address. please check documentation"),
    invalidRecipientBounces: true,
    droppedAfterBody: 'unknown',
    secret: key,
    rateLimitHeaders: () => ({ 'retry-after': '1' }),
  });
});

describe('the Mailgun channel’s own terms', () => {
  const build = messageSource();
  let server: Awaited<ReturnType<typeof startMailgun>>;
  beforeEach(async () => {
    server = await startMailgun(domain, key);
  });
  afterEach(() => server.close());

  it('hands over our own bytes, exactly as built, and signs them when a DKIM key is set', async () => {
    const [message] = build(readers(1));
    await mailgunChannel(`mailgun://api:${key}@${domain}?endpoint=${server.url}`, channelSettings()).deliver(message!);
    expect(server.accepted[0]!.raw.equals(message!.raw)).toBe(true);
    expect(server.accepted[0]!.to).toEqual(['r0@readers.example']);

    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dkim = new DkimSigner({ domainName: 'gazette.example', keySelector: 'news2024', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    await mailgunChannel(`mailgun://api:${key}@${domain}?endpoint=${server.url}`, channelSettings({ dkim })).deliver(message!);
    const record = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
    const verdict = await dkimVerify(server.accepted[1]!.raw, {
      resolver: async (name: string, type: string) => {
        if (name === 'news2024._domainkey.gazette.example' && type === 'TXT') return [[record]];
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      },
    });
    expect(verdict.results[0].status.result).toBe('pass');
  });

  it('reads the key from the URL’s password or user, or from MAILGUN_API_KEY, and names the EU API in its description', async () => {
    const settings = channelSettings({ env: { MAILGUN_API_KEY: key } });
    for (const url of [`mailgun://${key}@${domain}?endpoint=${server.url}`, `mailgun://${domain}?endpoint=${server.url}`, `mailgun://api@${domain}?endpoint=${server.url}`]) {
      await mailgunChannel(url, settings).verify();
    }
    expect(mailgunChannel(`mailgun://api:${key}@${domain}?region=eu`, channelSettings()).description).toBe(`mailgun (${domain} via api.eu.mailgun.net)`);
    expect(mailgunChannel(`mailgun://api:${key}@${domain}`, channelSettings()).description).toBe(`mailgun (${domain} via api.mailgun.net)`);
    await expect(mailgunChannel(`mailgun://${domain}`, channelSettings()).verify()).rejects.toMatchObject({
      code: 'route-unavailable',
      message: expect.stringMatching(/MAILGUN_API_KEY/),
    });
  });

  it('refuses at verify() a domain Mailgun does not know, or has disabled', async () => {
    await expect(mailgunChannel(`mailgun://api:${key}@other.example?endpoint=${server.url}`, channelSettings()).verify()).rejects.toMatchObject({
      code: 'route-unavailable',
      message: expect.stringMatching(/404/),
    });
    const disabled = await startMailgun(domain, key, 'disabled');
    await expect(mailgunChannel(`mailgun://api:${key}@${domain}?endpoint=${disabled.url}`, channelSettings()).verify()).rejects.toMatchObject({
      code: 'route-unavailable',
      message: expect.stringMatching(/disabled/),
    });
    await disabled.close();
  });

  it('takes a domain that may not send, or one unknown in this region, for the route down', async () => {
    const channel = mailgunChannel(`mailgun://api:${key}@${domain}?endpoint=${server.url}`, channelSettings());
    const [message] = build(readers(1));
    for (const refusal of [
      mailgunError(400, `Domain ${domain} is not allowed to send: The domain is unverified and requires DNS configuration. Log in to your control panel to view required DNS records.`),
      mailgunError(404, `Domain not found: ${domain}`),
    ]) {
      server.faults = { answer: () => refusal };
      const error = await channel.deliver(message!).catch((failure: unknown) => failure);
      expect(channel.classify(error).kind).toBe('down');
    }
  });
});
