import { emailKey } from '../audience/key.js';
import type { Connection } from '../db/connection.js';

/**
 * Records that a reader left through an issue's own link, so that the issue's report counts its
 * unsubscribes from its tokens rather than guessing from dates. Only a change is recorded (a second
 * click on a link already used counts once), and the first issue a reader left through keeps it.
 */
export async function recordUnsubscribe(connection: Connection, issue: string, email: string, how: string, at = new Date()): Promise<void> {
  await connection.db
    .insertInto('unsubscribe_events')
    .values({ issue, email_key: emailKey(email), how, at: at.toISOString() })
    .onConflict((conflict) => conflict.columns(['issue', 'email_key']).doNothing())
    .execute();
}
