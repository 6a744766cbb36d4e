import { emailKey } from '../audience/key.js';
import type { Connection } from '../db/connection.js';

export interface UnsubscribeEvent {
  issue: string;
  email: string;
  /** `one-click` or `page`. */
  how: string;
}

/**
 * Records that readers left through an issue's own link, so that the issue's report counts its
 * unsubscribes from its tokens rather than guessing from dates. Only changes are given here (a
 * second click on a link already used counts once), and the first issue a reader left through
 * keeps them. One statement for a whole batch of them (src/serve/batch.ts).
 */
export async function recordUnsubscribes(connection: Connection, events: UnsubscribeEvent[], at = new Date()): Promise<void> {
  if (!events.length) return;
  const when = at.toISOString();
  const rows = new Map(events.map((event) => [`${event.issue}\0${emailKey(event.email)}`, { issue: event.issue, email_key: emailKey(event.email), how: event.how, at: when }]));
  await connection.db
    .insertInto('unsubscribe_events')
    .values([...rows.values()])
    .onConflict((conflict) => conflict.columns(['issue', 'email_key']).doNothing())
    .execute();
}
