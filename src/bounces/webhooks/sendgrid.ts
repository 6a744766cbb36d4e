import { verify, type KeyObject } from 'node:crypto';
import type { Kind, Verdict } from '../classify.js';
import { eventKey, fresh, header, MAX_SKEW_MS, objectOf, refuse, text, type WebhookEvent, type WebhookHandler, type WebhookRequest, type WebhookResult } from './handler.js';
import { parseJson } from './json.js';
import { nothing, verdict } from './verdict.js';

export const SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

/**
 * Whether SendGrid signed these bytes at this time: ECDSA P-256 with SHA-256, the signature base64
 * DER, over the timestamp header's text followed by the raw body
 * (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features).
 */
export function sendgridSigned(key: KeyObject, timestamp: string, body: Buffer, signature: string): boolean {
  const bytes = Buffer.from(signature, 'base64');
  if (!bytes.length) return false;
  try {
    return verify('sha256', Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), key, bytes);
  } catch {
    return false;
  }
}

/**
 * SendGrid's Signed Event Webhook (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event):
 * a JSON array of events, verified with the public key SendGrid shows for it
 * (SENDGRID_WEBHOOK_PUBLIC_KEY); refused when unsigned, forged, altered, or stamped more than five
 * minutes from now. Each event is kept under its sg_event_id.
 *
 * - `bounce` of type `blocked`: the receiving side refused the message for reasons other than the
 *   address (reputation, a blocklist, content): sender;
 * - `bounce` (type `bounce`): by SendGrid's bounce_classification where it gives one (Invalid
 *   Address: hard; Mailbox Unavailable, Technical: soft; Reputation, Content, Frequency or
 *   Volume: sender), else hard (soft for a 4.x.x status), the remote server's words refining it;
 * - `dropped`, SendGrid did not send: "Bounced Address" (it bounced before) and "Invalid": hard;
 *   "Spam Reporting Address" (it complained before): complaint; "Unsubscribed Address" (SendGrid's
 *   own lists, which digest's links do not use): nothing; any other reason (spam content, a quota,
 *   a bad header) is about the sender;
 * - `spamreport`: complaint; everything else (processed, deferred, delivered, open, click,
 *   unsubscribe, group_unsubscribe, group_resubscribe): nothing. A `deferred` is a retry SendGrid
 *   makes itself, and ends in a delivery or a bounce.
 */
export function sendgridWebhook(key: KeyObject): WebhookHandler {
  async function handle(request: WebhookRequest): Promise<WebhookResult> {
    const signature = header(request, SIGNATURE_HEADER);
    const timestamp = header(request, TIMESTAMP_HEADER);
    if (!signature || !timestamp) return refuse(401, 'no signature (X-Twilio-Email-Event-Webhook-Signature and -Timestamp)');
    if (!sendgridSigned(key, timestamp, request.body, signature)) return refuse(401, 'the signature does not match');
    if (!fresh(timestamp, MAX_SKEW_MS)) return refuse(401, 'the signature is stale (its timestamp is more than five minutes from now)');
    const events = parseJson(request.body);
    if (!Array.isArray(events)) return refuse(400, 'the body is not a JSON array of events');
    return { ok: true, events: events.map((event) => sendgridEvent(objectOf(event) ?? {})) };
  }

  return { provider: 'sendgrid', accepts: ['application/json'], handle };
}

function sendgridEvent(event: Record<string, unknown>): WebhookEvent {
  const name = text(event.event) ?? '';
  const id = text(event.sg_event_id);
  const messageId = text(event['smtp-id']);
  const base = { email: text(event.email) ?? '', ...(messageId ? { messageId } : {}) };
  const said = id ? meaning(name, event) : nothing('a SendGrid event with no sg_event_id');
  const type = name === 'bounce' ? `bounce/${text(event.type) ?? 'bounce'}` : name === 'dropped' ? `dropped/${text(event.reason) ?? '?'}` : name || 'unknown';
  return { ...base, eventId: eventKey(said, id ?? '', text(event.sg_message_id)), verdict: said, type };
}

function meaning(name: string, event: Record<string, unknown>): Verdict {
  const reason = text(event.reason) ?? '';
  const status = text(event.status);
  if (name === 'spamreport') return { kind: 'complaint', diagnostic: 'SendGrid spam report' };
  if (name === 'bounce') {
    if (text(event.type) === 'blocked') return verdict('sender', { status, diagnostic: reason || 'SendGrid: blocked', fromServer: Boolean(reason) });
    return verdict(byClassification(text(event.bounce_classification)) ?? (status?.startsWith('4') ? 'soft' : 'hard'), { status, diagnostic: reason || 'SendGrid: bounce', fromServer: Boolean(reason) });
  }
  if (name === 'dropped') {
    if (/^bounced address/i.test(reason)) return verdict('hard', { diagnostic: 'SendGrid did not send: the address bounced before', fromServer: false });
    if (/^invalid$/i.test(reason)) return verdict('hard', { diagnostic: 'SendGrid did not send: an invalid address', fromServer: false });
    if (/^spam reporting address/i.test(reason)) return { kind: 'complaint', diagnostic: 'SendGrid did not send: the address reported spam before' };
    if (/^unsubscribed address/i.test(reason)) return nothing("SendGrid did not send: the address is on SendGrid's unsubscribe list");
    return { kind: 'sender', diagnostic: `SendGrid did not send: ${reason || 'dropped'}` };
  }
  return nothing(`a SendGrid ${name || 'unnamed'} event`);
}

function byClassification(classification: string | undefined): Kind | undefined {
  if (!classification) return undefined;
  if (/invalid address/i.test(classification)) return 'hard';
  if (/mailbox unavailable|technical/i.test(classification)) return 'soft';
  if (/reputation|content|frequency|volume/i.test(classification)) return 'sender';
  return undefined;
}
