import type { Connection } from '../db/connection.js';
import { afterSend } from '../bounces/events.js';
import { Journal, type JournalState } from './journal.js';

export interface IssueStatus {
  issue: string;
  sent: number;
  failed: number;
  deferred: number;
  unknown: number;
  pending: number;
  /** Readers sent, by the route that carried them. */
  routes: Record<string, number>;
  /** What came back afterwards: bounce reports and complaints (src/bounces/). */
  bounced: number;
  complained: number;
  softBounces: number;
  senderRefusals: number;
}

export interface ReaderStatus {
  email: string;
  state: JournalState;
  reply: string | null;
  attempts: number;
  messageId?: string;
  route?: string;
}

export interface StatusDetail extends IssueStatus {
  subject: string;
  startedAt: string;
  completedAt: string | null;
  /** The readers that need a look: failed, deferred or unknown, with the server's last reply. */
  problems?: ReaderStatus[];
  /** Every reader (status --readers): who got it through which route. */
  readers?: ReaderStatus[];
}

/** Counts by state for one issue or every issue the journal knows, newest first. */
export async function sendStatus(connection: Connection, issue: string | undefined, withProblems: boolean, withReaders = false): Promise<StatusDetail[]> {
  const journal = new Journal(connection);
  const sends = issue ? [await journal.send(issue)].filter((send) => send !== undefined) : await journal.issues();
  const details: StatusDetail[] = [];
  for (const send of sends) {
    const counts = await journal.counts(send.issue);
    details.push({
      issue: send.issue,
      sent: counts.sent,
      failed: counts.failed,
      deferred: counts.deferred,
      unknown: counts.unknown,
      pending: counts.pending + counts.sending,
      routes: await journal.routeCounts(send.issue),
      ...(await afterSend(connection.db, send.issue)),
      subject: send.subject,
      startedAt: send.started_at,
      completedAt: send.completed_at,
      ...(withProblems
        ? {
            // An unknown reader's Message-ID is what to look for in the server's log before --retry-unknown.
            problems: (await journal.entries(send.issue, ['failed', 'deferred', 'unknown'])).map(readerStatus),
          }
        : {}),
      ...(withReaders ? { readers: (await journal.entries(send.issue, ['pending', 'sending', 'sent', 'failed', 'deferred', 'unknown'])).map(readerStatus) } : {}),
    });
  }
  return details;
}

function readerStatus({ message_id, route, ...entry }: Awaited<ReturnType<Journal['entries']>>[number]): ReaderStatus {
  return { ...entry, ...(message_id ? { messageId: message_id } : {}), ...(route ? { route } : {}) };
}
