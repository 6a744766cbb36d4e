import type { Kind } from '../classify.js';
import { eventKey, header, objectOf, refuse, sameSecret, text, type WebhookHandler, type WebhookRequest, type WebhookResult } from './handler.js';
import { parseJson } from './json.js';
import { nothing, verdict } from './verdict.js';

/**
 * Postmark's bounce types (https://postmarkapp.com/developer/api/bounce-api#bounce-types) and what
 * each means for the reader:
 * - HardBounce, BadEmailAddress: the address is dead;
 * - SoftBounce, Transient (a delay), DnsError (temporary), Unknown (Postmark could not tell): soft;
 * - SpamNotification (the receiving side filtered the message as spam), Blocked (the receiving
 *   side refused us: reputation, a blocklist), VirusNotification, DMARCPolicy, ChallengeVerification
 *   (the recipient wants the sender to prove itself): refusals about the sender, never held
 *   against the reader;
 * - SpamComplaint: a complaint;
 * - AutoResponder: an automatic reply;
 * - Unsubscribe, Subscribe, AddressChange (requests sent by mail: digest's unsubscribes are its own
 *   links), OpenRelayTest, ManuallyDeactivated, Unconfirmed, SMTPApiError, InboundError,
 *   TemplateRenderingFailed (Postmark's own bookkeeping and features digest does not use), and any
 *   type Postmark adds later: nothing.
 */
const KINDS = new Map<string, Kind>(Object.entries({
  HardBounce: 'hard',
  BadEmailAddress: 'hard',
  SoftBounce: 'soft',
  Transient: 'soft',
  DnsError: 'soft',
  Unknown: 'soft',
  SpamNotification: 'sender',
  Blocked: 'sender',
  VirusNotification: 'sender',
  DMARCPolicy: 'sender',
  ChallengeVerification: 'sender',
  SpamComplaint: 'complaint',
  AutoResponder: 'auto-reply',
}) as [string, Kind][]);

export interface PostmarkCredentials {
  user: string;
  password: string;
}

/**
 * Postmark's bounce and spam complaint webhooks
 * (https://postmarkapp.com/developer/webhooks/bounce-webhook, …/spam-complaint-webhook). Postmark
 * signs nothing; it sends the basic auth credentials written into the webhook's URL
 * (`https://USER:PASSWORD@host/webhooks/postmark`), and a request without exactly those is refused.
 * Each event is kept under its bounce ID. Postmark's MessageID is its own, not our Message-ID, so
 * its events name the reader, not the issue. Deliveries, opens, clicks and subscription changes:
 * nothing.
 */
export function postmarkWebhook(credentials: PostmarkCredentials): WebhookHandler {
  const expected = `${credentials.user}:${credentials.password}`;

  async function handle(request: WebhookRequest): Promise<WebhookResult> {
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header(request, 'authorization') ?? '');
    const given = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8') : '';
    if (!sameSecret(given, expected)) return refuse(401, basic ? 'the basic auth credentials are wrong' : 'no basic auth credentials (put them in the webhook URL)');
    const event = objectOf(parseJson(request.body));
    if (!event) return refuse(400, 'the body is not a JSON object');
    const record = text(event.RecordType) ?? '';
    const id = text(event.ID);
    const email = text(event.Email) ?? text(event.Recipient) ?? '';
    if (record !== 'Bounce' && record !== 'SpamComplaint') {
      return { ok: true, events: [{ eventId: id ?? '', email, verdict: nothing(`a Postmark ${record || 'event'} event`), type: record || 'unknown' }] };
    }
    if (!id) return refuse(400, `a ${record} with no ID`);
    const type = record === 'SpamComplaint' ? 'SpamComplaint' : (text(event.Type) ?? 'Unknown');
    const kind = KINDS.get(type);
    // Details holds the remote server's words; Description is Postmark's own text for the type.
    const details = text(event.Details);
    const words = details ?? text(event.Description) ?? `Postmark ${type}`;
    const said =
      kind === undefined || kind === 'auto-reply'
        ? { kind: kind ?? ('not-report' as const), diagnostic: `Postmark ${type}: ${words}` }
        : kind === 'complaint'
          ? { kind, diagnostic: `Postmark ${type}` }
          : verdict(kind, { diagnostic: words, fromServer: Boolean(details) });
    return { ok: true, events: [{ eventId: eventKey(said, id, text(event.MessageID)), email, verdict: said, type: `${record}/${type}` }] };
  }

  return { provider: 'postmark', accepts: ['application/json'], handle };
}
