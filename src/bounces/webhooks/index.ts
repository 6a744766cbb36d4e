import { createPublicKey, type KeyObject } from 'node:crypto';
import type { ResolvedConfig } from '../../config.js';
import { UserError } from '../../errors.js';
import type { BounceLedger, BounceOutcome } from '../ledger.js';
import { PROVIDERS, type Provider, type WebhookEvent, type WebhookHandler, type WebhookRequest } from './handler.js';
import { mailgunWebhook } from './mailgun.js';
import { postmarkWebhook } from './postmark.js';
import { resendWebhook, svixKey } from './resend.js';
import { sendgridWebhook } from './sendgrid.js';
import { sesWebhook } from './ses.js';
import type { SnsFetch } from './sns.js';

export { PROVIDERS, type Provider, type WebhookHandler, type WebhookRequest } from './handler.js';

/** The webhooks that are on: one handler per provider configured. */
export interface Webhooks {
  providers: Provider[];
  handler(provider: string): WebhookHandler | undefined;
}

/** The environment variables that turn a provider's webhook on (SES's is the topic list in the config). */
export const SECRETS = {
  postmarkUser: 'DIGEST_WEBHOOK_POSTMARK_USER',
  postmarkPassword: 'DIGEST_WEBHOOK_POSTMARK_PASSWORD',
  mailgun: 'MAILGUN_WEBHOOK_SIGNING_KEY',
  sendgrid: 'SENDGRID_WEBHOOK_PUBLIC_KEY',
  resend: 'RESEND_WEBHOOK_SECRET',
} as const;

/** The Postmark password is all that stands between the internet and the list: guessable ones are refused. */
const MIN_PASSWORD = 16;

/**
 * The webhooks the config and the environment turn on, or undefined for none. A provider is on
 * when its secret is set (SES: when webhooks.ses.topics lists a topic); a secret that is set but
 * cannot be used stops `digest serve` with a message naming the variable (never its value).
 */
export function webhooksFrom(config: ResolvedConfig, env: NodeJS.ProcessEnv, options: { fetch?: SnsFetch } = {}): Webhooks | undefined {
  const handlers = new Map<Provider, WebhookHandler>();
  const topics = config.webhooks.ses?.topics ?? [];
  if (topics.length) handlers.set('ses', sesWebhook({ topics, fetch: options.fetch }));

  const user = env[SECRETS.postmarkUser];
  const password = env[SECRETS.postmarkPassword];
  if (user || password) {
    if (!user || !password) throw invalid(`set both ${SECRETS.postmarkUser} and ${SECRETS.postmarkPassword} (the basic auth credentials in Postmark's webhook URL), or neither`);
    if (user.includes(':')) throw invalid(`${SECRETS.postmarkUser} must not contain a colon (basic auth splits on it)`);
    if (password.length < MIN_PASSWORD) throw invalid(`${SECRETS.postmarkPassword} must be at least ${MIN_PASSWORD} characters: a long random one, as anyone who guesses it can mark readers bounced`);
    handlers.set('postmark', postmarkWebhook({ user, password }));
  }

  const mailgun = env[SECRETS.mailgun];
  if (mailgun) handlers.set('mailgun', mailgunWebhook(mailgun.trim()));

  const sendgrid = env[SECRETS.sendgrid];
  if (sendgrid) handlers.set('sendgrid', sendgridWebhook(sendgridKey(sendgrid)));

  const resend = env[SECRETS.resend];
  if (resend) {
    const key = svixKey(resend);
    if (!key) throw invalid(`${SECRETS.resend} must be the webhook's signing secret as Resend shows it: whsec_ followed by base64`);
    handlers.set('resend', resendWebhook(key));
  }

  if (!handlers.size) return undefined;
  return {
    providers: PROVIDERS.filter((provider) => handlers.has(provider)),
    handler: (provider) => handlers.get(provider as Provider),
  };
}

/** SendGrid shows its verification key as base64 DER (SubjectPublicKeyInfo); PEM is taken too. */
function sendgridKey(value: string): KeyObject {
  let key: KeyObject;
  try {
    const trimmed = value.trim();
    key = trimmed.includes('-----BEGIN') ? createPublicKey(trimmed) : createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw invalid(`${SECRETS.sendgrid} is not a public key: give the verification key SendGrid shows for the signed event webhook (base64)`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw invalid(`${SECRETS.sendgrid} is not an ECDSA P-256 key, as SendGrid's signed event webhook uses`);
  }
  return key;
}

function invalid(message: string): UserError {
  return new UserError(message, { code: 'invalid-webhook-secret' });
}

/** What one event did, for the log: the reader only by their address's domain. */
export interface EventOutcome {
  provider: Provider;
  event: string;
  type: string;
  kind: WebhookEvent['verdict']['kind'];
  action: BounceOutcome['action'];
  reason?: string;
  issue?: string | null;
  domain?: string;
}

export type Delivery = { refused: { status: number; reason: string } } | { outcomes: EventOutcome[]; note?: string };

/**
 * Takes a provider's request: verifies it (the provider's handler), then applies each event to its
 * reader through the ledger, as `bounces read` applies mailed reports (source `webhook:<provider>`).
 * Events are applied one at a time across all requests: the ledger reads before it writes (a repeat,
 * the soft bounces so far), and two deliveries of one event at once must not both pass the read.
 */
export class WebhookDispatcher {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly webhooks: Webhooks,
    private readonly ledger: BounceLedger,
  ) {}

  handler(provider: string): WebhookHandler | undefined {
    return this.webhooks.handler(provider);
  }

  async receive(handler: WebhookHandler, request: WebhookRequest): Promise<Delivery> {
    const result = await handler.handle(request);
    if (!result.ok) return { refused: { status: result.status, reason: result.reason } };
    const outcomes = await this.serially(async () => {
      const done: EventOutcome[] = [];
      for (const event of result.events) done.push(await this.apply(handler.provider, event));
      return done;
    });
    result.applied?.();
    return { outcomes, ...(result.note ? { note: result.note } : {}) };
  }

  private async apply(provider: Provider, event: WebhookEvent): Promise<EventOutcome> {
    const line = { provider, event: event.eventId, type: event.type, kind: event.verdict.kind, ...(event.email.includes('@') ? { domain: event.email.split('@').pop()!.toLowerCase() } : {}) };
    if (event.verdict.kind === 'not-report' || event.verdict.kind === 'auto-reply') return { ...line, action: 'ignored', reason: event.verdict.diagnostic ?? 'nothing to do' };
    if (!event.eventId || !event.email.includes('@')) return { ...line, action: 'ignored', reason: 'the event names no recipient or has no id' };
    const reader = await this.ledger.readerFor(event.email, event.messageId);
    if (!reader) return { ...line, action: 'ignored', reason: 'not on the list' };
    const outcome = await this.ledger.record(reader, event.verdict, `webhook:${provider}`, event.eventId);
    // The ledger's reasons name the reader ("… is bounced already"): the log gets the domain only.
    const reason = outcome.reason?.split(reader.email).join(`…@${line.domain ?? ''}`).split(event.email).join(`…@${line.domain ?? ''}`);
    return { ...line, issue: reader.issue, action: outcome.action, ...(reason ? { reason } : {}) };
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }
}
