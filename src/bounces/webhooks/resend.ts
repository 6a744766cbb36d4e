import { createHmac } from 'node:crypto';
import { eventKey, fresh, header, MAX_SKEW_MS, objectOf, refuse, sameBytes, text, type WebhookHandler, type WebhookRequest, type WebhookResult } from './handler.js';
import { parseJson } from './json.js';
import { amazonBounceKind, nothing, verdict } from './verdict.js';

/**
 * Whether Svix (which delivers Resend's webhooks) signed these bytes: `svix-signature` lists
 * space-separated `v1,<base64>` signatures (several while a secret is being rotated), each the
 * HMAC-SHA256 of `<svix-id>.<svix-timestamp>.<body>` keyed with the bytes of the secret's base64
 * after `whsec_` (https://docs.svix.com/receiving/verifying-payloads/how-manual). One match is enough.
 */
export function svixSigned(secret: Buffer, id: string, timestamp: string, body: Buffer, signatures: string): boolean {
  const expected = createHmac('sha256', secret).update(`${id}.${timestamp}.`).update(body).digest();
  let match = false;
  for (const entry of signatures.split(' ')) {
    const [version, signature] = entry.split(',', 2);
    // Every entry is compared, so the time taken does not say which one matched.
    if (version === 'v1' && signature && sameBytes(Buffer.from(signature, 'base64'), expected)) match = true;
  }
  return match;
}

/** The key in a `whsec_…` secret, or undefined when it is not one. */
export function svixKey(secret: string): Buffer | undefined {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret.trim());
  const key = match ? Buffer.from(match[1]!, 'base64') : undefined;
  return key && key.length >= 16 ? key : undefined;
}

/**
 * Resend's webhooks (https://resend.com/docs/webhooks/introduction), signed by Svix with the
 * webhook's signing secret (RESEND_WEBHOOK_SECRET); refused when unsigned, forged, altered, or
 * stamped more than five minutes from now. Each event is kept under its svix-id, which stays the
 * same when Svix retries it.
 *
 * - `email.bounced`: its bounce type and subtype are SES's (Resend sends through SES): see
 *   `amazonBounceKind` (Permanent: hard; Transient: soft, or sender when the message was at
 *   fault; Undetermined: soft);
 * - `email.complained`: complaint;
 * - anything else (sent, delivered, delivery_delayed, opened, clicked, failed, suppressed, contact
 *   and domain events): nothing.
 *
 * digest sends one reader a message; an event about a message with several recipients names no
 * single one of them, and changes nothing.
 */
export function resendWebhook(secret: Buffer): WebhookHandler {
  async function handle(request: WebhookRequest): Promise<WebhookResult> {
    const id = header(request, 'svix-id');
    const timestamp = header(request, 'svix-timestamp');
    const signatures = header(request, 'svix-signature');
    if (!id || !timestamp || !signatures) return refuse(401, 'no signature (svix-id, svix-timestamp, svix-signature)');
    if (!svixSigned(secret, id, timestamp, request.body, signatures)) return refuse(401, 'the signature does not match');
    if (!fresh(timestamp, MAX_SKEW_MS)) return refuse(401, 'the signature is stale (svix-timestamp is more than five minutes from now)');
    const event = objectOf(parseJson(request.body));
    if (!event) return refuse(400, 'the body is not a JSON object');
    const type = text(event.type) ?? 'unknown';
    const data = objectOf(event.data) ?? {};
    const to = Array.isArray(data.to) ? data.to.map(text).filter((address): address is string => Boolean(address)) : [];
    const messageId = text(data.message_id);
    const base = { eventId: id, email: to.length === 1 ? to[0]! : '', ...(messageId ? { messageId } : {}) };
    if (type !== 'email.bounced' && type !== 'email.complained') return { ok: true, events: [{ ...base, verdict: nothing(`a Resend ${type} event`), type }] };
    if (to.length !== 1) return { ok: true, events: [{ ...base, verdict: nothing(`a message to ${to.length} recipients: which one is meant is not said`), type }] };
    if (type === 'email.complained') return { ok: true, events: [{ ...base, verdict: { kind: 'complaint', diagnostic: 'Resend complaint' }, type }] };
    const bounce = objectOf(data.bounce) ?? {};
    const bounceType = text(bounce.type);
    const subType = text(bounce.subType);
    // The bounce message is Resend's explanation of the type (it speaks of "your reputation"), not
    // the remote server's words: it is kept, and not read for a sender's fault.
    const said = verdict(amazonBounceKind(bounceType, subType), { diagnostic: text(bounce.message) ?? `Resend ${bounceType ?? ''} bounce`, fromServer: false });
    return { ok: true, events: [{ ...base, eventId: eventKey(said, id, text(data.email_id)), verdict: said, type: `${type}/${bounceType ?? '?'}/${subType ?? '?'}` }] };
  }

  return { provider: 'resend', accepts: ['application/json'], handle };
}
