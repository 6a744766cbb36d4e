/**
 * Mailgun's JSON webhooks as documented (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks,
 * …/tracking-messages/tracking-failures): `signature` {timestamp, token, signature}, where the
 * signature is the hex HMAC-SHA256 of timestamp followed by token under the webhook signing key,
 * and `event-data`.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

export const MAILGUN_KEY = 'key-webhook-signing-0123456789abcdef';

export function mailgunSigned(eventData: unknown, options: { key?: string; timestamp?: number; token?: string } = {}): string {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const token = options.token ?? randomBytes(25).toString('hex');
  const signature = createHmac('sha256', options.key ?? MAILGUN_KEY).update(timestamp + token).digest('hex');
  return JSON.stringify({ signature: { timestamp, token, signature }, 'event-data': eventData });
}

/** Our Message-ID as Mailgun reports it: without the angle brackets. */
const bare = (messageId?: string) => messageId?.replace(/^<|>$/g, '');

export function mailgunFailed(options: { email: string; messageId?: string; severity?: 'permanent' | 'temporary'; reason?: string; code?: number; message?: string; id?: string }) {
  return {
    id: options.id ?? randomUUID(),
    timestamp: Date.now() / 1000,
    'log-level': 'error',
    event: 'failed',
    severity: options.severity ?? 'permanent',
    reason: options.reason ?? 'bounce',
    recipient: options.email,
    'recipient-domain': options.email.split('@')[1],
    envelope: { sender: 'bounces@gazette.example', transport: 'smtp', targets: options.email },
    message: { headers: { to: options.email, 'message-id': bare(options.messageId) ?? `${randomUUID()}@mg.gazette.example`, from: 'news@gazette.example', subject: 'Bridge reopens' }, attachments: [], size: 4096 },
    'delivery-status': {
      'attempt-no': 1,
      code: options.code ?? 550,
      message: options.message ?? '5.1.1 The email account that you tried to reach does not exist.',
      description: '',
      'session-seconds': 0.4,
    },
    flags: { 'is-routed': false, 'is-authenticated': true, 'is-system-test': false, 'is-test-mode': false },
  };
}

export function mailgunComplained(email: string, messageId?: string) {
  return { id: randomUUID(), timestamp: Date.now() / 1000, 'log-level': 'warn', event: 'complained', recipient: email, message: { headers: { 'message-id': bare(messageId) ?? `${randomUUID()}@mg.gazette.example` } } };
}

export function mailgunDelivered(email: string) {
  return { id: randomUUID(), timestamp: Date.now() / 1000, 'log-level': 'info', event: 'delivered', recipient: email, 'delivery-status': { code: 250, message: 'OK' } };
}

export const jsonHeaders = { 'content-type': 'application/json' };
