import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Readers who asked and have not confirmed: sign-up requests with no confirmation, younger than the
 * token's life, whose address is not on the list as subscribed meanwhile. They are not on the list
 * (the `subscribers` table) at all, so no send can reach them; `subscribers count` and
 * `subscribers list --status pending` show them from here.
 */
export interface PendingReader {
  email: string;
  name: string | null;
  source: string;
  requestedAt: string;
}

function open(db: Kysely<Database>, since: Date) {
  return db
    .selectFrom('signups')
    .where('confirmed_at', 'is', null)
    .where('requested_at', '>', since.toISOString())
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('subscribers').select('subscribers.email_key').whereRef('subscribers.email_key', '=', 'signups.email_key').where('subscribers.status', '=', 'subscribed'))),
    );
}

export async function countPending(db: Kysely<Database>, since: Date): Promise<number> {
  const row = await open(db, since)
    .select((eb) => eb.fn.count<number | string>('signups.email_key').distinct().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The latest request of each pending address, oldest first. */
export async function listPending(db: Kysely<Database>, since: Date): Promise<PendingReader[]> {
  const rows = await open(db, since).select(['email_key', 'email', 'name', 'source', 'requested_at']).orderBy('requested_at').execute();
  const latest = new Map<string, PendingReader>();
  for (const row of rows) {
    latest.delete(row.email_key);
    latest.set(row.email_key, { email: row.email, name: row.name, source: row.source, requestedAt: row.requested_at });
  }
  return [...latest.values()];
}
