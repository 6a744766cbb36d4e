import { emailKey } from '../audience/key.js';
import type { SubscriberStore } from '../audience/store.js';
import type { ResolvedConfig } from '../config.js';
import { classify, type Verdict } from './classify.js';
import type { DsnRecipient, Report } from './report.js';
import { tagOf } from './verp.js';

/** What one report did for one reader, or why it did nothing: a line of `bounces read --json`. */
export interface BounceOutcome {
  /** Where the report came from: a file's path, or the mailbox message's id. */
  source: string;
  report: string;
  recipient: string | null;
  issue: string | null;
  kind: Verdict['kind'];
  status: string | null;
  diagnostic: string | null;
  /** `bounced`, `complained`, `counted` (a soft bounce below the limit), or `ignored`. */
  action: 'bounced' | 'complained' | 'counted' | 'ignored';
  /** Why nothing changed, when nothing did. */
  reason?: string;
}

export interface BounceOptions {
  /** The configured bounce address, whose `+TAG` forms name a reader. */
  bounceAddress?: string;
  /** The domain of `from`: digest's Message-IDs end with it (src/delivery/message.ts). */
  senderDomain?: string;
  softBounces: { count: number; days: number };
  /** Classify and match, change nothing. */
  dryRun?: boolean;
  now?: Date;
}

interface Reader {
  email: string;
  issue: string | null;
}

/**
 * The ledger as the config sets it up, for `bounces read` and for the webhooks in `digest serve`:
 * the bounce address, the sender's domain (digest's Message-IDs end with it), the soft-bounce window.
 */
export function ledgerFor(store: SubscriberStore, config: ResolvedConfig, options: Pick<BounceOptions, 'dryRun' | 'now'> = {}): BounceLedger {
  const senderDomain = config.from ? /@([^\s>]+)/.exec(config.from)?.[1]?.toLowerCase() : undefined;
  return new BounceLedger(store, { bounceAddress: config.bounceAddress, senderDomain, softBounces: config.softBounces, ...options });
}

const DAY = 24 * 60 * 60_000;

/**
 * Turns reports into changes to the list. A report changes only the reader it names, and names a
 * reader only through what digest itself put in the message: the tag in its envelope sender, or
 * its Message-ID together with the address it went to. A report about anyone else (another list,
 * another sender, a forwarded address) is ignored with its reason. Every event is kept once per
 * report and reader, so reading the same report again changes nothing.
 */
export class BounceLedger {
  constructor(
    private readonly store: SubscriberStore,
    private readonly options: BounceOptions,
  ) {}

  private get db() {
    return this.store.dialect.db;
  }

  async apply(report: Report, source: string): Promise<BounceOutcome[]> {
    const base = { source, report: report.id };
    const overall = classify(report);
    if (overall.kind === 'auto-reply' || (overall.kind === 'not-report' && !report.recipients.length)) {
      return [{ ...base, recipient: null, issue: null, kind: overall.kind, status: null, diagnostic: overall.diagnostic ?? null, action: 'ignored', reason: overall.kind === 'auto-reply' ? 'an automatic reply, not a bounce' : 'not a bounce or complaint report' }];
    }
    const tagged = await this.taggedReader(report);
    const entries: { recipient?: DsnRecipient; address?: string }[] = report.feedback
      ? [{ address: report.feedback.originalRcptTo }]
      : report.recipients.length
        ? report.recipients.map((recipient) => ({ recipient, address: recipient.address }))
        : report.failedRecipients.length
          ? report.failedRecipients.map((address) => ({ address }))
          : [{ address: tagged?.email }];
    const outcomes: BounceOutcome[] = [];
    for (const entry of entries) {
      const verdict = classify(report, entry.recipient, entry.address);
      const line = { ...base, recipient: entry.address ?? null, kind: verdict.kind, status: verdict.status ?? null, diagnostic: verdict.diagnostic ?? null };
      const reader = await this.reader(report, entry.address, tagged);
      if (!reader.found) {
        outcomes.push({ ...line, issue: null, action: 'ignored', reason: reader.why });
        continue;
      }
      outcomes.push({ ...line, recipient: reader.found.email, issue: reader.found.issue, ...(await this.record(reader.found, verdict, 'mail', report.id)) });
    }
    return outcomes;
  }

  /**
   * The reader a provider's event names (webhooks say the recipient outright), with the issue when
   * the event carries digest's Message-ID; undefined for an address not on the list.
   */
  async readerFor(email: string, messageId?: string): Promise<{ email: string; issue: string | null } | undefined> {
    const subscriber = await this.store.get(email);
    if (!subscriber) return undefined;
    const ours = messageId ? ourMessageId(messageId.startsWith('<') ? messageId : `<${messageId}>`, this.options.senderDomain) : undefined;
    if (ours) {
      const row = await this.db.selectFrom('send_journal').select(['issue', 'message_id']).where('issue', '=', ours.issue).where('email_key', '=', emailKey(email)).executeTakeFirst();
      if (row?.message_id === ours.id) return { email: subscriber.email, issue: row.issue };
    }
    return { email: subscriber.email, issue: null };
  }

  /** The reader a tag in the report names, if any: the journal recorded each message's tag. */
  private async taggedReader(report: Report): Promise<Reader | undefined> {
    const tags = [...new Set(report.addresses.map((address) => tagOf(address, this.options.bounceAddress)).filter((tag): tag is string => Boolean(tag)))];
    if (!tags.length) return undefined;
    const row = await this.db.selectFrom('send_journal').select(['issue', 'email']).where('bounce_tag', 'in', tags).executeTakeFirst();
    return row ? { email: row.email, issue: row.issue } : undefined;
  }

  private async reader(report: Report, address: string | undefined, tagged: Reader | undefined): Promise<{ found?: Reader; why?: string }> {
    if (tagged) {
      // The tag names the reader; a report about some other address (a forward, another list) does not.
      if (address && emailKey(address) !== emailKey(tagged.email) && !address.includes('redacted') && address.includes('@')) {
        return { why: `the report is about ${address}, not ${tagged.email}, to whom the tagged message went` };
      }
      return { found: tagged };
    }
    const ours = report.messageIds.map((id) => ourMessageId(id, this.options.senderDomain)).filter((id): id is { id: string; issue: string } => Boolean(id));
    if (!ours.length) return { why: 'not a report about a message digest sent: no tag of ours and no Message-ID of ours' };
    for (const { id, issue } of ours) {
      if (address?.includes('@')) {
        const row = await this.db.selectFrom('send_journal').select(['email', 'message_id']).where('issue', '=', issue).where('email_key', '=', emailKey(address)).executeTakeFirst();
        if (row && row.message_id === id) return { found: { email: row.email, issue } };
      } else {
        // A complaint with the recipient redacted: the Message-ID alone names the reader.
        const row = await this.db.selectFrom('send_journal').select('email').where('issue', '=', issue).where('message_id', '=', id).executeTakeFirst();
        if (row) return { found: { email: row.email, issue } };
      }
    }
    return { why: address ? `${address} was not sent the message this report returns` : 'the report names no recipient, and its Message-ID matches no message sent' };
  }

  /**
   * Applies one event to its reader, once per source and event id: a report read from mail (source
   * `mail`, its Message-ID) or a provider's webhook (`webhook:postmark`, the provider's event id).
   */
  async record(reader: { email: string; issue: string | null }, verdict: Verdict, source: string, sourceId: string): Promise<Pick<BounceOutcome, 'action' | 'reason'>> {
    if (verdict.kind === 'not-report' || verdict.kind === 'auto-reply') return { action: 'ignored', reason: verdict.diagnostic ?? 'not a bounce' };
    const subscriber = await this.store.get(reader.email);
    if (!subscriber) return { action: 'ignored', reason: `${reader.email} is not on the list` };
    const now = this.options.now ?? new Date();
    const key = emailKey(reader.email);
    const event = {
      source,
      source_id: sourceId,
      email_key: key,
      email: subscriber.email,
      issue: reader.issue,
      kind: verdict.kind,
      status: verdict.status ?? null,
      diagnostic: verdict.diagnostic?.slice(0, 1000) ?? null,
      received_at: now.toISOString(),
    };
    const seen = await this.db.selectFrom('bounce_events').select('action').where('source', '=', source).where('source_id', '=', sourceId).where('email_key', '=', key).executeTakeFirst();
    if (seen) return { action: 'ignored', reason: source === 'mail' ? 'this report was read before' : 'this event was received before' };

    let action: BounceOutcome['action'] = 'ignored';
    let reason: string | undefined;
    const how = `${verdict.kind === 'complaint' ? 'complaint' : 'bounce'}${verdict.status ? ` ${verdict.status}` : ''}: ${(verdict.diagnostic ?? '').slice(0, 200)}`.trim();
    if (verdict.kind === 'sender') {
      reason = 'a refusal about the sender (policy, reputation, authentication), not the address: the reader is kept';
    } else if (subscriber.status !== 'subscribed' && verdict.kind !== 'complaint') {
      reason = `${subscriber.email} is ${subscriber.status} already`;
    } else if (verdict.kind === 'complaint') {
      action = subscriber.status === 'complained' ? 'ignored' : 'complained';
      if (action === 'ignored') reason = 'complained already';
    } else if (verdict.kind === 'hard') {
      action = 'bounced';
    } else {
      const since = new Date(now.getTime() - this.options.softBounces.days * DAY).toISOString();
      const earlier = await this.db
        .selectFrom('bounce_events')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('email_key', '=', key)
        .where('kind', '=', 'soft')
        .where('received_at', '>', since)
        .executeTakeFirstOrThrow();
      const count = Number(earlier.n) + 1;
      action = count >= this.options.softBounces.count ? 'bounced' : 'counted';
      if (action === 'counted') reason = `soft bounce ${count} of ${this.options.softBounces.count} within ${this.options.softBounces.days} days`;
    }
    if (this.options.dryRun) return { action, ...(reason ? { reason } : {}) };
    // The change first, then the event that marks the report as read: a crash between them leaves
    // the report unread, and reading it again makes the same change.
    if (action === 'bounced' || action === 'complained') {
      await this.store.withdraw(subscriber.email, action, how, event.received_at);
    }
    await this.db.insertInto('bounce_events').values({ ...event, action }).onConflict((conflict) => conflict.columns(['source', 'source_id', 'email_key']).doNothing()).execute();
    return { action, ...(reason ? { reason } : {}) };
  }
}

/** digest's own Message-IDs: `<32 hex digits.SLUG@domain>` (src/delivery/message.ts), on the sender's domain. */
function ourMessageId(id: string, domain: string | undefined): { id: string; issue: string } | undefined {
  const match = /^<[0-9a-f]{32}\.(.+)@([^@>]+)>$/.exec(id);
  if (!match || (domain && match[2]!.toLowerCase() !== domain)) return undefined;
  return { id, issue: match[1]! };
}
