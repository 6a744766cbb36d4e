import { UserError } from '../../errors.js';
import { redact } from '../../redact.js';
import type { Channel, ChannelSettings } from './channel.js';
import { failoverChannel } from './failover.js';

export type { Channel, ChannelSettings, Delivery, DeliverOptions, Verdict } from './channel.js';

/**
 * Every way out, by URL scheme. A channel is one file in this folder exporting one function from
 * its URL and the settings to a Channel; adding a provider is that file and one line here. Each is
 * imported only when a URL names it, so an SMTP send never loads a provider's SDK.
 */
const openers: Record<string, (url: string, settings: ChannelSettings) => Promise<Channel>> = {
  'smtp:': async (url, settings) => (await import('./smtp.js')).smtpChannel(url, settings),
  'smtps:': async (url, settings) => (await import('./smtp.js')).smtpChannel(url, settings),
  'outbox:': async (url, settings) => (await import('./outbox.js')).outboxChannel(url.slice('outbox:'.length) || 'outbox', settings),
  'ses:': async (url, settings) => (await import('./ses.js')).sesChannel(url, settings),
  'postmark:': async (url, settings) => (await import('./postmark.js')).postmarkChannel(url, settings),
  'mailgun:': async (url, settings) => (await import('./mailgun.js')).mailgunChannel(url, settings),
  'sendgrid:': async (url, settings) => (await import('./sendgrid.js')).sendgridChannel(url, settings),
  'resend:': async (url, settings) => (await import('./resend.js')).resendChannel(url, settings),
};

/** The schemes a route URL may have, for messages and help. */
export const SCHEMES = Object.keys(openers).map((scheme) => scheme.slice(0, -1));

/** Opens the channel a URL names. Nothing is contacted until verify(). */
export async function openChannel(url: string, settings: ChannelSettings): Promise<Channel> {
  const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(url)?.[1]?.toLowerCase();
  const opener = scheme ? openers[scheme] : undefined;
  if (!opener) {
    throw new UserError(`the delivery URL ${redact(url)} has no known scheme (one of ${SCHEMES.map((s) => `${s}:`).join(', ')})`, { code: 'invalid-delivery-url' });
  }
  return opener(url, settings);
}

/** A delivery route as the config or the command line gives it. */
export interface RouteRequest {
  url: string;
  concurrency?: number;
  rate?: number;
}

/**
 * One channel for a send: the route itself when there is one, failover across them when there are
 * several. Each route keeps its own concurrency and rate; without its own it has the send's.
 */
export async function openRoutes(
  routes: RouteRequest[],
  settings: ChannelSettings & { failAfter?: number; notice?: (message: string) => void },
): Promise<Channel> {
  if (!routes.length) throw new UserError('no delivery route', { code: 'invalid-delivery-url' });
  const channels = await Promise.all(
    routes.map(async (route) => ({
      channel: await openChannel(route.url, { ...settings, concurrency: route.concurrency ?? settings.concurrency }),
      concurrency: route.concurrency ?? settings.concurrency,
      rate: route.rate,
    })),
  );
  if (channels.length === 1 && !routes[0]!.rate) return channels[0]!.channel;
  return failoverChannel(channels, { failAfter: settings.failAfter ?? DEFAULT_FAIL_AFTER, notice: settings.notice });
}

/** Temporary failures in a row, with no success between, that take a route down. */
export const DEFAULT_FAIL_AFTER = 10;
