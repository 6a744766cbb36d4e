import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Channel, ChannelSettings, Verdict } from '../../../src/delivery/channels/channel.js';
import type { OutgoingMessage } from '../../../src/delivery/message.js';
import type { ProviderServer, Reply } from '../../providers/server.js';
import { channelSettings, messageSource, readers } from './messages.js';

/** What the fake provider kept of one message, in the terms every provider shares. */
export interface Kept {
  to: string;
  html: string;
  text: string;
  listUnsubscribe: string | undefined;
  listUnsubscribePost: string | undefined;
}

export interface ProviderCase<S extends ProviderServer> {
  start(): Promise<S>;
  /** The channel on the server's URL, with the right key. */
  open(server: S, settings: ChannelSettings): Channel;
  /** The channel with a key the provider refuses. */
  openWithBadKey(server: S, settings: ChannelSettings): Channel;
  kept(server: S): Kept[];
  /** How the provider refuses a malformed or dead recipient address, and whether that is a bounce. */
  invalidRecipient(address: string): Reply;
  invalidRecipientBounces: boolean;
  /** The verdict on a connection dropped once the whole request was in: `unknown`, or `retry` with an idempotency key. */
  droppedAfterBody: 'unknown' | 'retry';
  /** The key, which must appear in no message. */
  secret: string;
  /** The 429 headers the provider sends, asking for a wait of about a second. */
  rateLimitHeaders(): Record<string, string>;
}

/**
 * The behaviour every HTTP provider channel owes the send loop, run against that provider's fake:
 * delivery of exactly what was asked, a rate limit waited out, and what each kind of failure means.
 */
export function providerContract<S extends ProviderServer>(provider: ProviderCase<S>): void {
  const build = messageSource();
  let server: S;
  const channels: Channel[] = [];
  const open = (settings: Partial<ChannelSettings> = {}) => {
    const channel = provider.open(server, channelSettings(settings));
    channels.push(channel);
    return channel;
  };
  const failureOf = async (channel: Channel, message: OutgoingMessage): Promise<Verdict> => {
    const error = await channel.deliver(message).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error, 'the delivery should have failed').toBeDefined();
    const verdict = channel.classify(error);
    expect(verdict.reply).not.toContain(provider.secret);
    return verdict;
  };

  beforeEach(async () => {
    server = await provider.start();
  });
  afterEach(async () => {
    for (const channel of channels.splice(0)) channel.abort();
    await server.close();
  });

  it('delivers each message once, with its bodies and our List-Unsubscribe headers, and replies with the provider’s id', async () => {
    const channel = open();
    await channel.verify();
    const messages = build(readers(12));
    const replies = await Promise.all(messages.map((message) => channel.deliver(message)));
    for (const { reply } of replies) expect(reply).toMatch(/^[a-z]+ 20[02] \S+$/);
    expect(new Set(replies.map((r) => r.reply)).size).toBe(12);
    expect(server.malformed).toEqual([]);
    const kept = provider.kept(server);
    expect(kept.map((k) => k.to).sort()).toEqual(messages.map((m) => m.envelope.to[0]).sort());
    for (const message of messages) {
      const fields = message.fields();
      const got = kept.find((k) => k.to === fields.to)!;
      expect(got.html.replace(/\r\n/g, '\n').trim()).toBe(fields.html.replace(/\r\n/g, '\n').trim());
      expect(got.text.replace(/\r\n/g, '\n').trim()).toBe(fields.text.replace(/\r\n/g, '\n').trim());
      expect(got.listUnsubscribe).toBe(fields.headers['List-Unsubscribe']);
      expect(got.listUnsubscribePost).toBe('List-Unsubscribe=One-Click');
    }
  });

  it('waits out a 429 for every delivery under way, then delivers each message once', async () => {
    server.faults = { rateLimit: { count: 3, headers: provider.rateLimitHeaders() } };
    const channel = open({ concurrency: 3 });
    const messages = build(readers(6));
    const started = performance.now();
    await Promise.all(messages.map((message) => channel.deliver(message)));
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(provider.kept(server)).toHaveLength(6);
    expect(new Set(provider.kept(server).map((k) => k.to)).size).toBe(6);
    expect(server.requests.length).toBe(9);
  });

  it('gives up on a rate limit that outlasts its waits: retry', async () => {
    server.faults = { rateLimit: { count: 100, headers: { 'retry-after': '0' } } };
    const verdict = await failureOf(open(), build(readers(1))[0]!);
    expect(verdict.kind).toBe('retry');
    expect(server.requests.length).toBe(6);
    expect(provider.kept(server)).toHaveLength(0);
  });

  it('takes a 5xx for "try again later": retry', async () => {
    server.faults = { serverError: { count: 1, status: 503 } };
    const verdict = await failureOf(open(), build(readers(1))[0]!);
    expect(verdict).toMatchObject({ kind: 'retry' });
    expect(verdict.reply).toMatch(/ 503: /);
  });

  it(`takes a connection dropped after the whole request for ${provider.droppedAfterBody}`, async () => {
    server.faults = { drop: { count: 1, process: true } };
    const [message] = build(readers(1));
    const channel = open();
    const verdict = await failureOf(channel, message!);
    expect(verdict.kind).toBe(provider.droppedAfterBody);
    if (provider.droppedAfterBody === 'retry') {
      // The provider took the first request: the second one, same key, must not double it.
      await channel.deliver(message!);
      expect(provider.kept(server)).toHaveLength(1);
    }
  });

  it('takes an answer slower than the timeout for the same as a dropped connection', async () => {
    // undici checks its answer deadlines on a coarse clock (half a second): the answer comes well after.
    server.faults = { slowMs: 2_500 };
    const verdict = await failureOf(open({ timeoutMs: 300 }), build(readers(1))[0]!);
    expect(verdict.kind).toBe(provider.droppedAfterBody);
    expect(verdict.reply).toMatch(/no answer within 0\.3 s/);
  });

  it('refuses a bad key at verify() with route-unavailable, and a delivery with it is down; the key is never printed', async () => {
    const channel = provider.openWithBadKey(server, channelSettings());
    channels.push(channel);
    expect(channel.description).not.toContain(provider.secret);
    const error = await channel.verify().then(() => undefined, (failure: unknown) => failure as Error & { code?: string });
    expect(error).toMatchObject({ code: 'route-unavailable' });
    expect(error!.message).toMatch(/refused the credentials/);
    expect(error!.message).not.toContain(provider.secret);
    expect(error!.message).not.toContain('bad-key');
    const verdict = await failureOf(channel, build(readers(1))[0]!);
    expect(verdict.kind).toBe('down');
  });

  it('says a route with nothing listening is down, at verify() and at delivery', async () => {
    const url = server.url;
    await server.close();
    server = await provider.start();
    const channel = provider.open({ ...server, url } as S, channelSettings());
    channels.push(channel);
    await expect(channel.verify()).rejects.toMatchObject({ code: 'route-unavailable', message: expect.stringMatching(/nothing is listening/) });
    const verdict = await failureOf(channel, build(readers(1))[0]!);
    expect(verdict.kind).toBe('down');
  });

  it(`fails an invalid recipient for good${provider.invalidRecipientBounces ? ', as a bounce' : ''}`, async () => {
    const [message] = build(readers(1, 'invalid.example'));
    server.faults = { answer: (request) => (request.body.includes(Buffer.from('@invalid.example')) ? provider.invalidRecipient(message!.envelope.to[0]!) : undefined) };
    const verdict = await failureOf(open(), message!);
    expect(verdict).toMatchObject({ kind: 'failed', bounce: provider.invalidRecipientBounces });
  });

  it('sends nothing for a delivery whose ready says no', async () => {
    const channel = open();
    await expect(channel.deliver(build(readers(1))[0]!, { ready: Promise.resolve(false) })).rejects.toMatchObject({ abandoned: true });
    expect(server.requests).toHaveLength(0);
  });

  it('ends the deliveries waiting for an answer at abort(), as unknown ones', async () => {
    server.faults = { slowMs: 5_000 };
    const channel = open();
    const pending = Promise.allSettled(build(readers(3)).map((message) => channel.deliver(message)));
    while (server.requests.length < 3) await new Promise((tick) => setTimeout(tick, 10));
    const started = performance.now();
    channel.abort();
    const results = await pending;
    expect(performance.now() - started).toBeLessThan(1_000);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect(channel.classify((result as PromiseRejectedResult).reason).kind).toBe(provider.droppedAfterBody);
    }
  });

  it('uses at most `concurrency` kept-alive connections for many deliveries', async () => {
    const channel = open({ concurrency: 5 });
    await Promise.all(build(readers(50)).map((message) => channel.deliver(message)));
    expect(provider.kept(server)).toHaveLength(50);
    expect(server.connections).toBeLessThanOrEqual(5);
    expect(server.connections).toBeGreaterThanOrEqual(1);
  });
}
