import { sql } from 'kysely';
import { afterSend } from '../bounces/events.js';
import type { Connection } from '../db/connection.js';
import type { SendsTable } from '../db/schema.js';
import { Journal } from '../delivery/journal.js';
import { rate } from './rates.js';

/** How one issue's send went, from the journal and what came back after it. */
export interface IssueFigures {
  issue: string;
  subject: string;
  startedAt: string;
  completedAt: string | null;
  /** Readers the send enqueued (one journal row each). */
  readers: number;
  /** Readers the list held who were not enqueued: unsubscribed, bounced, erased, other tags. */
  excluded: number;
  sent: number;
  /** Refused for good during the send (a 5xx, or a provider's rejection). */
  failed: number;
  /** Still waiting for a retry: a greylisting or a full mailbox at the last attempt. */
  deferred: number;
  /** The whole message went out and no answer came back: see `digest send --retry-unknown`. */
  unknown: number;
  pending: number;
  /** Made bounced by reports that came back after the send (src/bounces/). */
  bouncedAfter: number;
  softBounces: number;
  complained: number;
  senderRefusals: number;
  unsubscribed: { oneClick: number; page: number; total: number };
  rates: {
    /** (failed + bounced afterwards) / (sent + failed). */
    bounce: number | null;
    /** complained / sent. */
    complaint: number | null;
    /** unsubscribed through this issue's links / sent. */
    unsubscribe: number | null;
    /** Clicks on counted links / sent, when clicks are counted. */
    click: number | null;
  };
  /** Messages accepted per bucket of `bucketMinutes`, from the first acceptance to the last. */
  delivery: { bucketMinutes: number; points: { at: string; accepted: number }[] };
  /** Domains whose readers waited longest for acceptance (greylisting, throttling), slowest first. */
  slowestDomains: DomainFigures[];
  /** Domains with failed, deferred or unknown readers, most first, with what their servers said. */
  failingDomains: DomainFigures[];
  /** Counted links (tracking.clicks), most clicked first. */
  links: { url: string; clicks: number }[];
  clicks: number;
}

export interface DomainFigures {
  domain: string;
  readers: number;
  sent: number;
  failed: number;
  deferred: number;
  unknown: number;
  /** Attempts per reader on average: above 1 means the domain asked us to come back. */
  attempts: number;
  /** Minutes from the send's start to the domain's last acceptance. */
  lastAcceptedMinutes: number | null;
  /** The servers' distinct replies to the readers not sent, most frequent first (at most 3). */
  replies: { reply: string; readers: number }[];
}

/** Buckets tried in turn, so that a send of a day draws as well as a send of ten minutes. */
const BUCKETS = [1, 5, 15, 60, 360, 1440];
const MAX_POINTS = 120;
const DOMAINS_SHOWN = 10;

/** The figures every issue has in the list across issues: counts and rates, no per-domain detail. */
export type IssueSummary = Omit<IssueFigures, 'delivery' | 'slowestDomains' | 'failingDomains'>;

export async function issueSummary(connection: Connection, send: SendsTable): Promise<IssueSummary> {
  const issue = send.issue;
  const counts = await new Journal(connection).counts(issue);
  const after = await afterSend(connection.db, issue);
  const unsubscribed = await unsubscribesOf(connection, issue);
  const links = await linksOf(connection, issue);
  const clicks = links.reduce((sum, link) => sum + link.clicks, 0);
  return {
    issue,
    subject: send.subject,
    startedAt: send.started_at,
    completedAt: send.completed_at,
    readers: Object.values(counts).reduce((sum, n) => sum + n, 0),
    excluded: Number(send.excluded),
    sent: counts.sent,
    failed: counts.failed,
    deferred: counts.deferred,
    unknown: counts.unknown,
    pending: counts.pending + counts.sending,
    bouncedAfter: after.bounced,
    softBounces: after.softBounces,
    complained: after.complained,
    senderRefusals: after.senderRefusals,
    unsubscribed,
    rates: {
      bounce: rate(counts.failed + after.bounced, counts.sent + counts.failed),
      complaint: rate(after.complained, counts.sent),
      unsubscribe: rate(unsubscribed.total, counts.sent),
      click: links.length ? rate(clicks, counts.sent) : null,
    },
    links,
    clicks,
  };
}

export async function issueFigures(connection: Connection, issue: string): Promise<IssueFigures | undefined> {
  const send = await new Journal(connection).send(issue);
  if (!send) return undefined;
  const domains = await domainsOf(connection, issue, send.started_at);
  return {
    ...(await issueSummary(connection, send)),
    delivery: await deliveryOf(connection, issue),
    slowestDomains: domains
      .filter((domain) => domain.lastAcceptedMinutes !== null)
      .sort((a, b) => b.lastAcceptedMinutes! - a.lastAcceptedMinutes! || b.attempts - a.attempts || a.domain.localeCompare(b.domain))
      .slice(0, DOMAINS_SHOWN),
    failingDomains: domains
      .filter((domain) => domain.failed + domain.deferred + domain.unknown > 0)
      .sort((a, b) => b.failed + b.deferred + b.unknown - (a.failed + a.deferred + a.unknown) || a.domain.localeCompare(b.domain))
      .slice(0, DOMAINS_SHOWN),
  };
}

async function unsubscribesOf(connection: Connection, issue: string): Promise<IssueFigures['unsubscribed']> {
  const rows = await connection.db
    .selectFrom('unsubscribe_events')
    .select(['how', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('issue', '=', issue)
    .groupBy('how')
    .execute();
  const of = (how: string) => Number(rows.find((row) => row.how === how)?.n ?? 0);
  return { oneClick: of('one-click'), page: of('page'), total: rows.reduce((sum, row) => sum + Number(row.n), 0) };
}

async function linksOf(connection: Connection, issue: string): Promise<IssueFigures['links']> {
  const rows = await connection.db.selectFrom('link_clicks').select(['url', 'clicks']).where('issue', '=', issue).orderBy('clicks', 'desc').orderBy('url').execute();
  return rows.map((row) => ({ url: row.url, clicks: Number(row.clicks) }));
}

/**
 * Acceptances per minute straight from the journal (a sent row's last change is its acceptance),
 * then gathered into the smallest bucket that keeps the chart under MAX_POINTS, gaps as zeros.
 */
async function deliveryOf(connection: Connection, issue: string): Promise<IssueFigures['delivery']> {
  const minute = sql<string>`substr(updated_at, 1, 16)`;
  const rows = await connection.db
    .selectFrom('send_journal')
    .select([minute.as('minute'), (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('issue', '=', issue)
    .where('state', '=', 'sent')
    .groupBy(minute)
    .orderBy(minute)
    .execute();
  if (!rows.length) return { bucketMinutes: 1, points: [] };
  const time = (text: string) => Date.parse(`${text}:00Z`);
  const first = time(rows[0]!.minute);
  const span = (time(rows[rows.length - 1]!.minute) - first) / 60_000 + 1;
  const bucketMinutes = BUCKETS.find((size) => Math.ceil(span / size) <= MAX_POINTS) ?? BUCKETS[BUCKETS.length - 1]!;
  const size = bucketMinutes * 60_000;
  const start = Math.floor(first / size) * size;
  const accepted = new Array<number>(Math.floor((time(rows[rows.length - 1]!.minute) - start) / size) + 1).fill(0);
  for (const row of rows) accepted[Math.floor((time(row.minute) - start) / size)]! += Number(row.n);
  return { bucketMinutes, points: accepted.map((n, index) => ({ at: new Date(start + index * size).toISOString().slice(0, 16), accepted: n })) };
}

async function domainsOf(connection: Connection, issue: string, startedAt: string): Promise<DomainFigures[]> {
  // The part after the last @ of the key (lower-cased already), in each database's own words.
  const domain = connection.kind === 'postgres' ? sql<string>`substring(email_key from '@([^@]*)$')` : sql<string>`substr(email_key, instr(email_key, '@') + 1)`;
  const rows = await connection.db
    .selectFrom('send_journal')
    .select([
      domain.as('domain'),
      'state',
      (eb) => eb.fn.countAll<number | string>().as('n'),
      (eb) => eb.fn.sum<number | string>('attempts').as('attempts'),
      (eb) => eb.fn.max('updated_at').as('last'),
    ])
    .where('issue', '=', issue)
    .groupBy([domain, 'state'])
    .execute();
  const byDomain = new Map<string, DomainFigures & { attemptSum: number }>();
  for (const row of rows) {
    const name = row.domain || '(none)';
    let entry = byDomain.get(name);
    if (!entry) {
      entry = { domain: name, readers: 0, sent: 0, failed: 0, deferred: 0, unknown: 0, attempts: 0, attemptSum: 0, lastAcceptedMinutes: null, replies: [] };
      byDomain.set(name, entry);
    }
    const n = Number(row.n);
    entry.readers += n;
    entry.attemptSum += Number(row.attempts ?? 0);
    if (row.state === 'sent') {
      entry.sent += n;
      entry.lastAcceptedMinutes = Math.max(0, Math.round((Date.parse(String(row.last)) - Date.parse(startedAt)) / 6000) / 10);
    } else if (row.state === 'failed' || row.state === 'deferred' || row.state === 'unknown') {
      entry[row.state] += n;
    }
  }
  const replies = await connection.db
    .selectFrom('send_journal')
    .select([domain.as('domain'), 'reply', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('issue', '=', issue)
    .where('state', 'in', ['failed', 'deferred', 'unknown'])
    .groupBy([domain, 'reply'])
    .execute();
  for (const row of replies) byDomain.get(row.domain || '(none)')?.replies.push({ reply: row.reply ?? '(no reply)', readers: Number(row.n) });
  return [...byDomain.values()].map(({ attemptSum, ...entry }) => ({
    ...entry,
    attempts: entry.readers ? Math.round((attemptSum / entry.readers) * 100) / 100 : 0,
    replies: entry.replies.sort((a, b) => b.readers - a.readers || a.reply.localeCompare(b.reply)).slice(0, 3),
  }));
}
