import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface AfterSend {
  /** Readers the issue's reports made bounced (a hard bounce, or the soft one that tipped the count). */
  bounced: number;
  complained: number;
  /** Soft bounces counted, not (yet) enough to bounce the reader. */
  softBounces: number;
  /** Refusals about the sender (blocked, policy, authentication): the readers were kept. */
  senderRefusals: number;
}

/** What came back after an issue was sent, from the kept events (src/bounces/ledger.ts). */
export async function afterSend(db: Kysely<Database>, issue: string): Promise<AfterSend> {
  const rows = await db
    .selectFrom('bounce_events')
    .select(['action', 'kind', (eb) => eb.fn.count<number | string>('email_key').distinct().as('n')])
    .where('issue', '=', issue)
    .groupBy(['action', 'kind'])
    .execute();
  const count = (match: (row: { action: string; kind: string }) => boolean) => rows.filter(match).reduce((sum, row) => sum + Number(row.n), 0);
  return {
    bounced: count((row) => row.action === 'bounced'),
    complained: count((row) => row.action === 'complained'),
    softBounces: count((row) => row.action === 'counted'),
    senderRefusals: count((row) => row.kind === 'sender'),
  };
}
