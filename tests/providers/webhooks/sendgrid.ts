/**
 * SendGrid's Signed Event Webhook as documented (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features):
 * a JSON array of events, with an ECDSA P-256 / SHA-256 signature (base64 DER) of the timestamp
 * header's text followed by the body. The key pair is made here; its public half goes to digest as
 * SendGrid shows it, base64 DER.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
export const SENDGRID_PUBLIC_KEY = pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');

export function sendgridHeaders(body: string, options: { timestamp?: number; privateKey?: typeof pair.privateKey } = {}): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = sign('sha256', Buffer.from(timestamp + body, 'utf8'), options.privateKey ?? pair.privateKey).toString('base64');
  return { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp };
}

/** Another key pair's private half: what a forger signs with. */
export const otherKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;

const eventId = () => randomBytes(16).toString('base64url');
const base = (email: string) => ({ email, timestamp: Math.floor(Date.now() / 1000), 'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>', sg_event_id: eventId(), sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0', category: ['newsletter'] });

export function sendgridBounce(email: string, options: { type?: 'bounce' | 'blocked'; status?: string; reason?: string; classification?: string; id?: string } = {}) {
  return {
    ...base(email),
    ...(options.id ? { sg_event_id: options.id } : {}),
    event: 'bounce',
    type: options.type ?? 'bounce',
    status: options.status ?? '5.1.1',
    reason: options.reason ?? '550 5.1.1 The email account that you tried to reach does not exist.',
    bounce_classification: options.classification ?? 'Invalid Address',
    ip: '192.0.2.33',
    tls: 1,
  };
}

export function sendgridDropped(email: string, reason: string) {
  return { ...base(email), event: 'dropped', reason, status: '5.0.0' };
}

export function sendgridSpamReport(email: string) {
  return { ...base(email), event: 'spamreport' };
}

export function sendgridOpen(email: string) {
  return { ...base(email), event: 'open', sg_machine_open: false, useragent: 'Mozilla/5.0', ip: '192.0.2.44' };
}
