import { checkAddress } from '../audience/address.js';
import type { CheckedInput, SubscriberStore } from '../audience/store.js';
import { recordUnsubscribes, type UnsubscribeEvent } from '../report/unsubscribes.js';

interface Pending {
  email: string;
  how: string;
  /** The issue whose link was used, recorded for its report when the reader's status changes. */
  issue?: string;
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
const EVENTS_AFTER_MS = 250;

export class UnsubscribeBatcher {
  private queue: Pending[] = [];
  private draining?: Promise<void>;
  /**
   * Unsubscribes by issue for the report, written a quarter of a second after the first is held (or
   * once maxBatch are): on SQLite the subscribers are written by a thread of their own, and a
   * statement from here after every batch waited for its lock each time, a third of the
   * throughput. A crash loses at most that quarter second of the report's figures, never an
   * unsubscribe; close() writes them.
   */
  private events: UnsubscribeEvent[] = [];
  private eventsDue = false;
  private eventsTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: SubscriberStore,
    private readonly maxBatch = 500,
    /** Told when the report's record could not be written (the unsubscribes themselves were). */
    private readonly onUncounted: (error: unknown) => void = () => {},
  ) {}

  /** Whether anything changed; a change by an issue's link is kept for that issue's report. */
  unsubscribe(email: string, how: string, issue?: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ email, how, issue, resolve, reject });
      this.draining ??= this.drain().finally(() => (this.draining = undefined));
    });
  }

  /** Resolves once every unsubscribe asked for is written, and the report's record of them. */
  async flush(): Promise<void> {
    clearTimeout(this.eventsTimer);
    this.eventsTimer = undefined;
    this.eventsDue = true;
    while (this.draining) await this.draining;
    await this.writeEvents();
  }

  private scheduleEvents(): void {
    if (this.eventsTimer || !this.events.length) return;
    this.eventsTimer = setTimeout(() => {
      this.eventsTimer = undefined;
      this.eventsDue = true;
      this.draining ??= this.drain().finally(() => (this.draining = undefined));
    }, EVENTS_AFTER_MS);
    this.eventsTimer.unref();
  }

  private changed(item: Pending, changed: boolean): void {
    if (changed && item.issue !== undefined) this.events.push({ issue: item.issue, email: item.email, how: item.how });
    item.resolve(changed);
  }

  /** A failure here costs a figure in the report, never a reader's unsubscribe. */
  private async writeEvents(): Promise<void> {
    const events = this.events.splice(0);
    await recordUnsubscribes(this.store.dialect, events).catch(this.onUncounted);
  }

  private async drain(): Promise<void> {
    for (;;) {
      // Each turn takes at least one request off the queue.
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const outcomes = await this.store.upsert(batch.map(input), { source: batch[0]!.how });
          batch.forEach((item, index) => this.changed(item, outcomes[index] === 'imported' || outcomes[index] === 'updated'));
        } catch (error) {
          if (batch.length === 1) {
            batch[0]!.reject(error);
            continue;
          }
          // One that cannot be written must not fail the others: one at a time, each its own answer.
          for (const item of batch) await this.store.upsert([input(item)], { source: item.how }).then((outcomes) => this.changed(item, outcomes[0] === 'imported' || outcomes[0] === 'updated'), item.reject);
        }
        if (this.events.length >= this.maxBatch) await this.writeEvents();
      }
      if (!this.eventsDue || !this.events.length) {
        if (!this.events.length) this.eventsDue = false;
        this.scheduleEvents();
        return;
      }
      this.eventsDue = false;
      // Requests that arrive while these are written are taken by this same drain, on its next turn.
      await this.writeEvents();
    }
  }
}

function input(item: Pending): CheckedInput {
  const check = checkAddress(item.email);
  return { email: item.email.trim(), status: 'unsubscribed', withdrawnHow: item.how, consentSource: null, international: check.ok ? check.international : false };
}
