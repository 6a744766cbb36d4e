import { sql } from 'kysely';
import type { Connection } from '../db/connection.js';
import { Journal } from '../delivery/journal.js';
import { issueSummary, type IssueSummary } from './issue-figures.js';

/** How the list has done over time, and how each issue compares. */
export interface ListFigures {
  /** `week` (starting Monday) or `month`, whichever keeps the charts readable. */
  period: 'week' | 'month';
  /** The list at the end of each period: readers subscribed, and those who left, by how. */
  size: { period: string; subscribed: number; unsubscribed: number; bounced: number; complained: number }[];
  /** Readers who subscribed in each period, by where their consent came from. */
  joined: { period: string; bySource: Record<string, number> }[];
  /** The sources in `joined`, largest first; the smallest beyond six are gathered as `other`. */
  sources: string[];
  /** Every issue sent, oldest first. */
  issues: IssueSummary[];
  /** The same issues best first, and by what. */
  ranked: { by: 'clicks' | 'unsubscribes and complaints'; issues: string[] };
}

type Status = 'subscribed' | 'unsubscribed' | 'bounced' | 'complained';
const SOURCES_SHOWN = 6;
const MAX_WEEKS = 104;

/**
 * From the consent and withdrawal records on each subscriber: a reader joined when they consented
 * (else when they were added) and left when withdrawn, as their status now says. Counted by day
 * in the database, so a list of millions is read as a few thousand rows.
 */
export async function listFigures(connection: Connection, now = new Date()): Promise<ListFigures> {
  const joinDay = sql<string>`substr(coalesce(consent_at, created_at), 1, 10)`;
  const leaveDay = sql<string | null>`substr(withdrawn_at, 1, 10)`;
  const consented = sql<number>`CASE WHEN consent_at IS NULL THEN 0 ELSE 1 END`;
  const rows = await connection.db
    .selectFrom('subscribers')
    .select([joinDay.as('joined'), leaveDay.as('left'), consented.as('consented'), 'status', 'consent_source', (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy([joinDay, leaveDay, consented, 'status', 'consent_source'])
    .execute();

  const today = now.toISOString().slice(0, 10);
  const days = rows.map((row) => earlier(row.joined, row.left ?? row.joined));
  const first = days.length ? days.reduce((a, b) => (a < b ? a : b)) : today;
  const period: ListFigures['period'] = (Date.parse(today) - Date.parse(first)) / 86_400_000 / 7 > MAX_WEEKS ? 'month' : 'week';
  const periods = periodsBetween(first, today, period);
  const index = new Map(periods.map((start, i) => [start, i]));
  const at = (day: string) => index.get(periodOf(day, period)) ?? periods.length - 1;

  const joins = new Array<number>(periods.length).fill(0);
  const leaves: Record<Exclude<Status, 'subscribed'>, number[]> = {
    unsubscribed: new Array<number>(periods.length).fill(0),
    bounced: new Array<number>(periods.length).fill(0),
    complained: new Array<number>(periods.length).fill(0),
  };
  const bySource = periods.map(() => new Map<string, number>());
  const sourceTotals = new Map<string, number>();
  for (const row of rows) {
    const n = Number(row.n);
    const status = row.status as Status;
    const left = status === 'subscribed' ? undefined : (row.left ?? row.joined);
    // A reader recorded as withdrawn before the consent on file (an import of old history) joined no later than they left.
    const joined = left ? earlier(row.joined, left) : row.joined;
    joins[at(joined)]! += n;
    if (left) leaves[status as Exclude<Status, 'subscribed'>][at(left)]! += n;
    // Who never consented on our record (imported as already unsubscribed) is not a new subscriber.
    if (status === 'subscribed' || Number(row.consented) === 1) {
      const source = row.consent_source ?? 'unknown';
      const counts = bySource[at(joined)]!;
      counts.set(source, (counts.get(source) ?? 0) + n);
      sourceTotals.set(source, (sourceTotals.get(source) ?? 0) + n);
    }
  }

  const ordered = [...sourceTotals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([source]) => source);
  const kept = ordered.length > SOURCES_SHOWN ? ordered.slice(0, SOURCES_SHOWN - 1) : ordered;
  const sources = ordered.length > SOURCES_SHOWN ? [...kept, 'other'] : kept;

  const size: ListFigures['size'] = [];
  const running = { joined: 0, unsubscribed: 0, bounced: 0, complained: 0 };
  periods.forEach((start, i) => {
    running.joined += joins[i]!;
    running.unsubscribed += leaves.unsubscribed[i]!;
    running.bounced += leaves.bounced[i]!;
    running.complained += leaves.complained[i]!;
    size.push({
      period: start,
      subscribed: running.joined - running.unsubscribed - running.bounced - running.complained,
      unsubscribed: running.unsubscribed,
      bounced: running.bounced,
      complained: running.complained,
    });
  });

  const joined = periods.map((start, i) => {
    const counts: Record<string, number> = Object.fromEntries(sources.map((source) => [source, 0]));
    for (const [source, n] of bySource[i]!) counts[kept.includes(source) ? source : 'other'] += n;
    return { period: start, bySource: counts };
  });

  const sends = (await new Journal(connection).issues()).reverse();
  const issues: IssueSummary[] = [];
  for (const send of sends) issues.push(await issueSummary(connection, send));
  return { period, size, joined, sources, issues, ranked: rank(issues) };
}

/**
 * Best first. With clicks counted, by clicks per reader sent; without, by the fewest readers lost
 * (unsubscribes and complaints per reader sent), which every send has.
 */
function rank(issues: IssueSummary[]): ListFigures['ranked'] {
  const withClicks = issues.some((issue) => issue.links.length);
  const score = (issue: IssueSummary) => (withClicks ? -(issue.rates.click ?? 0) : (issue.rates.unsubscribe ?? 0) + (issue.rates.complaint ?? 0));
  const ordered = [...issues].filter((issue) => issue.sent > 0).sort((a, b) => score(a) - score(b) || a.startedAt.localeCompare(b.startedAt));
  return { by: withClicks ? 'clicks' : 'unsubscribes and complaints', issues: ordered.map((issue) => issue.issue) };
}

function earlier(a: string, b: string): string {
  return a < b ? a : b;
}

/** The period a day falls in, named by its first day (a Monday) or its month. */
export function periodOf(day: string, period: ListFigures['period']): string {
  if (period === 'month') return day.slice(0, 7);
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  return date.toISOString().slice(0, 10);
}

function periodsBetween(first: string, last: string, period: ListFigures['period']): string[] {
  const periods: string[] = [];
  let cursor = periodOf(first, period);
  const end = periodOf(last, period);
  while (cursor <= end) {
    periods.push(cursor);
    const date = new Date(`${period === 'month' ? `${cursor}-01` : cursor}T00:00:00Z`);
    if (period === 'month') date.setUTCMonth(date.getUTCMonth() + 1);
    else date.setUTCDate(date.getUTCDate() + 7);
    cursor = period === 'month' ? date.toISOString().slice(0, 7) : date.toISOString().slice(0, 10);
  }
  return periods;
}
