import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postmarkChannel } from '../../../src/delivery/channels/postmark.js';
import { inactiveRecipient, postmarkError, startPostmark } from '../../providers/postmark.js';
import { channelSettings, messageSource, readers } from './messages.js';
import { providerContract } from './provider-contract.js';

const token = 'pm-server-token-8d1e';

describe('the Postmark channel', () => {
  providerContract({
    start: () => startPostmark(token),
    open: (server, settings) => postmarkChannel(`postmark://${token}@api.postmarkapp.com?endpoint=${server.url}`, settings),
    openWithBadKey: (server, settings) => postmarkChannel(`postmark://bad-key@api.postmarkapp.com?endpoint=${server.url}`, settings),
    kept: (server) =>
      server.accepted.map((m) => ({
        to: /<([^>]+)>$/.exec(m.to)?.[1] ?? m.to,
        html: m.html,
        text: m.text,
        listUnsubscribe: m.headers['List-Unsubscribe'],
        listUnsubscribePost: m.headers['List-Unsubscribe-Post'],
      })),
    invalidRecipient: (address) => postmarkError(300, `Error parsing 'To': Illegal email address '${address}'. It must contain the '@' symbol.`),
    invalidRecipientBounces: true,
    droppedAfterBody: 'unknown',
    secret: token,
    rateLimitHeaders: () => ({ 'retry-after': '1' }),
  });
});

describe('the Postmark channel’s own terms', () => {
  const build = messageSource();
  let server: Awaited<ReturnType<typeof startPostmark>>;
  beforeEach(async () => {
    server = await startPostmark(token);
  });
  afterEach(() => server.close());
  const open = (query = '', env: NodeJS.ProcessEnv = {}) => postmarkChannel(`postmark://${token}@api.postmarkapp.com?endpoint=${server.url}${query}`, channelSettings({ env }));

  it('sends through the broadcast stream unless told otherwise, with tracking off and our Message-ID', async () => {
    const [message] = build(readers(1));
    await open().deliver(message!);
    await open('&stream=newsletter').deliver(message!);
    expect(server.accepted.map((m) => m.stream)).toEqual(['broadcast', 'newsletter']);
    expect(server.accepted[0]!.headers['Message-ID']).toBe(message!.messageId);
    expect(server.accepted[0]!.to).toBe('"Zoë \\"Z\\" Ørsted, Jr." <r0@readers.example>');
    const sent = JSON.parse(server.requests[0]!.body.toString());
    expect(sent).toMatchObject({ TrackOpens: false, TrackLinks: 'None' });
  });

  it('fails an inactive recipient (Postmark’s suppression) for good, not as a bounce', async () => {
    server.faults = { answer: () => inactiveRecipient('r0@readers.example') };
    const channel = open();
    const error = await channel.deliver(build(readers(1))[0]!).catch((failure: unknown) => failure);
    expect(channel.classify(error)).toMatchObject({ kind: 'failed', bounce: false, reply: expect.stringMatching(/inactive/) });
  });

  it('takes an account that may not send, or a sender not confirmed, for the route down', async () => {
    for (const code of [412, 401, 405]) {
      server.faults = { answer: () => postmarkError(code, 'Your account may not send.') };
      const channel = open();
      const error = await channel.deliver(build(readers(1))[0]!).catch((failure: unknown) => failure);
      expect(channel.classify(error).kind, String(code)).toBe('down');
    }
  });

  it('takes the token from POSTMARK_SERVER_TOKEN when the URL has none, and names the variable when neither has it', async () => {
    const fromEnv = postmarkChannel(`postmark://?endpoint=${server.url}`, channelSettings({ env: { POSTMARK_SERVER_TOKEN: token } }));
    await fromEnv.verify();
    expect(fromEnv.description).toBe(`postmark (${new URL(server.url).host})`);
    const without = postmarkChannel('postmark://', channelSettings());
    expect(without.description).toBe('postmark (api.postmarkapp.com)');
    await expect(without.verify()).rejects.toMatchObject({ code: 'route-unavailable', message: expect.stringMatching(/POSTMARK_SERVER_TOKEN/) });
    expect(without.classify(await without.deliver(build(readers(1))[0]!).catch((e: unknown) => e)).kind).toBe('down');
  });

  it('reads a token given as the URL’s user without a host', () => {
    expect(postmarkChannel(`postmark://${token}@`, channelSettings()).description).toBe('postmark (api.postmarkapp.com)');
    expect(() => postmarkChannel(`postmark://${token}@?endpoint=ftp://x`, channelSettings())).toThrow(/not http/);
    try {
      postmarkChannel(`postmark://${token}@?endpoint=ftp://x`, channelSettings());
    } catch (error) {
      expect((error as Error).message).not.toContain(token);
    }
  });
});
