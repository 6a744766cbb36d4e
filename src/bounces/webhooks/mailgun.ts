import { createHmac } from 'node:crypto';
import { eventKey, fresh, MAX_SKEW_MS, objectOf, refuse, sameBytes, text, type WebhookHandler, type WebhookRequest, type WebhookResult } from './handler.js';
import { parseJson } from './json.js';
import { nothing, verdict } from './verdict.js';

/** Tokens remembered: a token older than the skew allowed is refused as stale anyway. */
const TOKEN_MEMORY_MS = 2 * MAX_SKEW_MS;
const MAX_TOKENS = 100_000;

/**
 * Mailgun's webhooks, the JSON kind (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks):
 * `{"signature": {timestamp, token, signature}, "event-data": {…}}`, signed with the webhook
 * signing key (MAILGUN_WEBHOOK_SIGNING_KEY, not the API key) as the hex HMAC-SHA256 of timestamp
 * and token. Refused: a signature that does not match, a timestamp more than five minutes from now,
 * and a token seen before (a replay), as Mailgun's documentation suggests. A token is remembered
 * only once its events are applied, so a delivery that failed here can be retried with it.
 *
 * `failed` events (https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/tracking-failures):
 * - `permanent`: hard, with the remote server's words refining it (verdict.ts); `reason`
 *   suppress-bounce (Mailgun did not try: the address bounced before) hard too;
 *   suppress-complaint (it complained before): complaint; suppress-unsubscribe (Mailgun's own
 *   unsubscribe list, which digest's links do not use): nothing; espblock (the receiving provider
 *   blocked us): sender; old, or a 4xx answer (Mailgun gave up after retrying temporary
 *   failures): soft;
 * - `temporary`: soft, counted once per message however many attempts Mailgun reports.
 * `complained`: complaint. Every other event (accepted, delivered, opened, clicked, unsubscribed,
 * stored): nothing.
 *
 * Kept under event-data's id. Mailgun sends our MIME as it is, so the Message-ID it reports is
 * digest's own and names the issue.
 */
export function mailgunWebhook(signingKey: string): WebhookHandler {
  const tokens = new Map<string, number>();

  function seen(token: string, now: number): boolean {
    if (tokens.size > MAX_TOKENS) for (const [old, at] of tokens) if (now - at > TOKEN_MEMORY_MS) tokens.delete(old);
    const at = tokens.get(token);
    return at !== undefined && now - at <= TOKEN_MEMORY_MS;
  }

  async function handle(request: WebhookRequest): Promise<WebhookResult> {
    const body = objectOf(parseJson(request.body));
    if (!body) return refuse(400, 'the body is not a JSON object (only the JSON webhooks are taken, not the legacy form posts)');
    const signature = objectOf(body.signature);
    const timestamp = text(signature?.timestamp);
    const token = text(signature?.token);
    const given = text(signature?.signature);
    if (!timestamp || !token || !given || !/^[0-9a-f]{64}$/i.test(given)) return refuse(401, 'no signature (timestamp, token, signature)');
    const expected = createHmac('sha256', signingKey).update(timestamp + token).digest();
    if (!sameBytes(Buffer.from(given, 'hex'), expected)) return refuse(401, 'the signature does not match');
    const now = Date.now();
    if (!fresh(timestamp, MAX_SKEW_MS, now)) return refuse(401, 'the signature is stale (its timestamp is more than five minutes from now)');
    if (seen(token, now)) return refuse(401, 'the token was used before (a replay)');

    const data = objectOf(body['event-data']);
    if (!data) return refuse(400, 'no event-data');
    const event = text(data.event) ?? '';
    const id = text(data.id);
    const email = text(data.recipient) ?? '';
    const headers = objectOf(objectOf(data.message)?.headers);
    const messageId = text(headers?.['message-id']);
    const applied = () => void tokens.set(token, now);
    const base = { email, ...(messageId ? { messageId } : {}) };
    if ((event !== 'failed' && event !== 'complained') || !id) {
      return { ok: true, applied, events: [{ ...base, eventId: id ?? token, verdict: nothing(`a Mailgun ${event || 'unnamed'} event`), type: event || 'unknown' }] };
    }
    if (event === 'complained') return { ok: true, applied, events: [{ ...base, eventId: id, verdict: { kind: 'complaint', diagnostic: 'Mailgun complained' }, type: 'complained' }] };

    const severity = text(data.severity) ?? 'permanent';
    const reason = text(data.reason) ?? '';
    const status = objectOf(data['delivery-status']) ?? {};
    const server = [text(status.code), text(status.message), text(status.description)].filter(Boolean).join(' ');
    const words = server || `Mailgun ${severity} failure (${reason || 'no reason'})`;
    const fromServer = Boolean(server);
    const enhanced = text(status['enhanced-code']);
    // Mailgun also gives up on an address after repeated temporary failures; the last answer's
    // code says so, and that is a soft bounce (counted once for the message), not a dead address.
    const temporary = severity === 'temporary' || reason === 'old' || /^4/.test(text(status.code) ?? '') || /^4\./.test(enhanced ?? '');
    const said =
      reason === 'suppress-complaint'
        ? { kind: 'complaint' as const, diagnostic: 'Mailgun did not send: the address complained before' }
        : reason === 'suppress-unsubscribe'
          ? nothing("Mailgun did not send: the address is on Mailgun's unsubscribe list")
          : reason === 'espblock'
            ? verdict('sender', { diagnostic: words, fromServer })
            : temporary
              ? verdict('soft', { status: enhanced, diagnostic: words, fromServer })
              : verdict('hard', { status: enhanced, diagnostic: reason === 'suppress-bounce' ? `Mailgun did not send: the address bounced before. ${words}` : words, fromServer });
    return { ok: true, applied, events: [{ ...base, eventId: eventKey(said, id, messageId), verdict: said, type: `failed/${severity}/${reason || '?'}` }] };
  }

  return { provider: 'mailgun', accepts: ['application/json'], handle };
}
