import { eventKey, header, objectOf, refuse, text, type WebhookEvent, type WebhookHandler, type WebhookRequest, type WebhookResult } from './handler.js';
import { parseJson } from './json.js';
import { httpsGet, snsUrl, SnsVerifier, type SnsFetch, type SnsMessage } from './sns.js';
import { amazonBounceKind, nothing, verdict } from './verdict.js';

/**
 * How old a signed SNS Timestamp may be. SNS stamps a message when it is published and a retry
 * carries the same stamp and signature; its retries of an HTTP/S delivery may span up to an hour
 * (3,600 s is SNS's hard limit), and five minutes are added for clocks. A replay inside the hour
 * changes nothing: every event is kept once.
 */
const SNS_MAX_AGE_MS = 65 * 60_000;

export interface SesWebhookOptions {
  /** The SNS topics whose messages are taken; any other topic is refused before anything is fetched. */
  topics: string[];
  /** How certificates are fetched and subscriptions confirmed (tests give their own). */
  fetch?: SnsFetch;
}

/**
 * Amazon SES notifications through an SNS topic with an HTTPS subscription
 * (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html, and the same fields from
 * a configuration set's event destination, under `eventType`). Every message is checked as SNS
 * signs it (sns.ts), and must come from a topic the config lists: SNS signs the messages of every
 * topic of every AWS account, so a valid signature alone proves nothing about whose topic it is.
 *
 * - `SubscriptionConfirmation`: confirmed by fetching its SubscribeURL (on an SNS host only);
 * - `UnsubscribeConfirmation`: noted, not acted on (no one is resubscribed behind the owner's back);
 * - `Notification` of a `Bounce`: one event per bounced recipient, kinds as `amazonBounceKind`
 *   says (verdict.ts), kept under the bounce's feedbackId (a bounce that reaches digest through two
 *   topics counts once); of a `Complaint`: complaint (unless its feedback type says not-spam);
 *   anything else (Delivery, Send, Open, Click, DeliveryDelay, Reject, …): nothing.
 *
 * The message's Message-ID header (commonHeaders.messageId) is digest's own, as SES sends our MIME
 * as it is, so it names the issue.
 *
 * Raw message delivery must be off on the subscription: a raw message carries no signature.
 */
export function sesWebhook(options: SesWebhookOptions): WebhookHandler {
  const topics = new Set(options.topics);
  const fetch = options.fetch ?? httpsGet;
  const verifier = new SnsVerifier(fetch);

  async function handle(request: WebhookRequest): Promise<WebhookResult> {
    const message = objectOf(parseJson(request.body));
    if (!message) return refuse(400, 'the body is not a JSON object');
    if (typeof message.Type !== 'string' || typeof message.Signature !== 'string') {
      return refuse(401, 'not a signed SNS message (is raw message delivery on? It must be off)');
    }
    const sns = message as unknown as SnsMessage;
    const announced = header(request, 'x-amz-sns-message-type');
    if (announced && announced !== sns.Type) return refuse(400, 'x-amz-sns-message-type does not match the message');
    if (!topics.has(sns.TopicArn)) return refuse(403, 'the message comes from an SNS topic that is not listed in webhooks.ses.topics');
    const stamped = Date.parse(sns.Timestamp);
    if (!Number.isFinite(stamped) || Math.abs(Date.now() - stamped) > SNS_MAX_AGE_MS) return refuse(401, 'the message is stale (its Timestamp is more than an hour from now)');
    const problem = await verifier.problem(sns);
    if (problem) return refuse(401, problem);

    if (sns.Type === 'SubscriptionConfirmation') {
      const url = snsUrl(sns.SubscribeURL);
      if (!url) return refuse(400, 'SubscribeURL is not an https URL on an SNS host');
      // The confirmation is the GET itself; SNS answers with XML nobody needs.
      await fetch(url);
      return { ok: true, events: [], note: `subscribed to ${sns.TopicArn}` };
    }
    if (sns.Type === 'UnsubscribeConfirmation') return { ok: true, events: [], note: `unsubscribed from ${sns.TopicArn}` };
    if (sns.Type !== 'Notification') return refuse(400, `unknown SNS message type ${sns.Type}`);
    return { ok: true, events: sesEvents(sns) };
  }

  return { provider: 'ses', accepts: ['text/plain', 'application/json'], handle };
}

interface SesRecipient {
  emailAddress?: unknown;
  status?: unknown;
  diagnosticCode?: unknown;
}

/** The events in one SES notification (SNS's Message), by the notification's own fields. */
function sesEvents(sns: SnsMessage): WebhookEvent[] {
  const notification = objectOf(parseJson(sns.Message));
  const type = text(notification?.notificationType) ?? text(notification?.eventType);
  if (!notification || !type) return [{ eventId: sns.MessageId, email: '', verdict: nothing('an SNS message that is not an SES notification'), type: 'unknown' }];
  const mail = objectOf(notification.mail);
  const messageId = text(objectOf(mail?.commonHeaders)?.messageId) ?? messageIdHeader(mail?.headers);
  const sesMessageId = text(mail?.messageId);
  const base = { ...(messageId ? { messageId } : {}) };

  if (type === 'Bounce') {
    const bounce = objectOf(notification.bounce) ?? {};
    const bounceType = text(bounce.bounceType);
    const subType = text(bounce.bounceSubType);
    const kind = amazonBounceKind(bounceType, subType);
    const id = text(bounce.feedbackId) ?? sns.MessageId;
    return list<SesRecipient>(bounce.bouncedRecipients).map((recipient) => {
      const words = text(recipient.diagnosticCode);
      const said = verdict(kind, { status: text(recipient.status), diagnostic: words ?? `SES ${bounceType ?? '?'} ${subType ?? '?'} bounce`, fromServer: Boolean(words) });
      return { ...base, eventId: eventKey(said, id, sesMessageId), email: text(recipient.emailAddress) ?? '', verdict: said, type: `Bounce/${bounceType ?? '?'}/${subType ?? '?'}` };
    });
  }
  if (type === 'Complaint') {
    const complaint = objectOf(notification.complaint) ?? {};
    const feedback = text(complaint.complaintFeedbackType);
    const id = text(complaint.feedbackId) ?? sns.MessageId;
    const said = feedback === 'not-spam' ? nothing('a feedback report saying the message is not spam') : { kind: 'complaint' as const, diagnostic: `SES complaint${feedback ? ` (${feedback})` : ''}` };
    return list<SesRecipient>(complaint.complainedRecipients).map((recipient) => ({ ...base, eventId: id, email: text(recipient.emailAddress) ?? '', verdict: said, type: `Complaint${feedback ? `/${feedback}` : ''}` }));
  }
  return [{ ...base, eventId: sns.MessageId, email: '', verdict: nothing(`an SES ${type} notification`), type }];
}

function list<T>(value: unknown): T[] {
  return Array.isArray(value) ? value.filter((item): item is T => Boolean(objectOf(item))) : [];
}

/** The Message-ID among the headers SES lists (when commonHeaders lacks it). */
function messageIdHeader(headers: unknown): string | undefined {
  for (const entry of list<{ name?: unknown; value?: unknown }>(headers)) {
    if (typeof entry.name === 'string' && entry.name.toLowerCase() === 'message-id') return text(entry.value);
  }
  return undefined;
}
