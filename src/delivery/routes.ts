import { resolve } from 'node:path';
import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import { dkimFromEnvironment } from './dkim.js';
import { describeSmtpUrl } from './channels/smtp.js';
import { openRoutes, type Channel, type RouteRequest } from './channels/index.js';

/** Where a send, a test send or a confirmation goes, as the command line and config say. */
export interface DeliveryChoice {
  /** --via, each a route URL; several fail over in order. */
  via?: string[];
  /** --smtp, kept as it was before --via. */
  smtp?: string;
  /** --outbox: the folder for when no route is set anywhere (relative to the working folder). */
  outbox?: string;
  config: ResolvedConfig;
  env?: NodeJS.ProcessEnv;
}

/**
 * The routes, first found wins: --via, --smtp, DIGEST_DELIVERY_URL (several separated by spaces),
 * DIGEST_SMTP_URL, the config's delivery.routes, and last the outbox, so that nothing leaves the
 * machine unless something says where.
 */
export function chooseRoutes(choice: DeliveryChoice): RouteRequest[] {
  const env = choice.env ?? process.env;
  if (choice.via?.length) return choice.via.map((url) => ({ url }));
  // --smtp and DIGEST_SMTP_URL name an SMTP server and nothing else, as they always have.
  if (choice.smtp) return [{ url: smtpOnly(choice.smtp) }];
  const listed = env.DIGEST_DELIVERY_URL?.trim();
  if (listed) return listed.split(/\s+/).map((url) => ({ url }));
  if (env.DIGEST_SMTP_URL) return [{ url: smtpOnly(env.DIGEST_SMTP_URL) }];
  const routes = choice.config.delivery?.routes;
  if (routes) {
    return routes.map((route) => {
      const url = route.url ?? env[route.env!];
      if (!url) throw new UserError(`the delivery route names the environment variable ${route.env}, which is not set`, { code: 'invalid-delivery-url', file: choice.config.file });
      return { url, concurrency: route.concurrency, rate: route.rate };
    });
  }
  return [{ url: `outbox:${resolve(choice.outbox ?? 'outbox')}` }];
}

/**
 * Opens the channel for a send and checks every route before anything is sent or recorded. The
 * same for a real send, `send --test`, the preview's test send: same factory, same channel, so
 * the same headers and the same DKIM signature.
 */
export async function openDelivery(
  choice: DeliveryChoice & { from: string; slug: string; concurrency: number; timeoutMs: number; notice?: (message: string) => void },
): Promise<Channel> {
  const env = choice.env ?? process.env;
  const domain = choice.from.replace(/.*@/, '').replace(/>.*$/, '').trim().toLowerCase();
  const channel = await openRoutes(chooseRoutes(choice), {
    concurrency: choice.concurrency,
    timeoutMs: choice.timeoutMs,
    dkim: dkimFromEnvironment(domain, env),
    env,
    slug: choice.slug,
    root: choice.config.root,
    failAfter: choice.config.delivery?.failAfter,
    notice: choice.notice,
  });
  try {
    await channel.verify();
  } catch (error) {
    channel.close();
    throw error;
  }
  return channel;
}

function smtpOnly(url: string): string {
  describeSmtpUrl(url);
  return url;
}
