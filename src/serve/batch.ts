import { checkAddress } from '../audience/address.js';
import type { CheckedInput, SubscriberStore } from '../audience/store.js';

interface Pending {
  email: string;
  how: string;
  resolve: (changed: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for unsubscribes. While one transaction runs, the requests that arrive wait and then
 * go together in the next one: a burst of one-click POSTs (a provider retrying, a complaint wave)
 * costs a few transactions, not one each, and a lone request still goes at once. Each is the same
 * change `store.unsubscribe` makes: status unsubscribed, when and how recorded, a withdrawal
 * already on record left as it was, an erased address left erased; an address never on the list is
 * recorded with no consent source, since it never gave one.
 */
export class UnsubscribeBatcher {
  private queue: Pending[] = [];
  private draining = false;

  constructor(
    private readonly store: SubscriberStore,
    private readonly maxBatch = 500,
  ) {}

  /** Whether anything changed. */
  unsubscribe(email: string, how: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ email, how, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      // Each turn takes at least one request off the queue.
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const outcomes = await this.store.upsert(batch.map(input), { source: batch[0]!.how });
          batch.forEach((item, index) => item.resolve(outcomes[index] === 'imported' || outcomes[index] === 'updated'));
        } catch (error) {
          if (batch.length === 1) {
            batch[0]!.reject(error);
            continue;
          }
          // One that cannot be written must not fail the others: one at a time, each its own answer.
          for (const item of batch) await this.store.upsert([input(item)], { source: item.how }).then((outcomes) => item.resolve(outcomes[0] === 'imported' || outcomes[0] === 'updated'), item.reject);
        }
      }
    } finally {
      this.draining = false;
    }
  }
}

function input(item: Pending): CheckedInput {
  const check = checkAddress(item.email);
  return { email: item.email.trim(), status: 'unsubscribed', withdrawnHow: item.how, consentSource: null, international: check.ok ? check.international : false };
}
