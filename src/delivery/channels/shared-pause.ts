import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A pause that every delivery of one channel waits out before its next request. A provider that
 * throttles ("too many requests") speaks of the account, not of one message: if each delivery only
 * backed off by itself, the others would keep the rate just as high and be throttled in turn.
 */
export class SharedPause {
  private until = 0;

  /** Pauses everyone for at least `ms` from now (a longer pause already under way stands). */
  extend(ms: number): void {
    this.until = Math.max(this.until, Date.now() + ms);
  }

  /** Resolves once no pause is in force; rejects when `signal` aborts. */
  async wait(signal?: AbortSignal): Promise<void> {
    for (let left = this.until - Date.now(); left > 0; left = this.until - Date.now()) {
      await sleep(left, undefined, { signal });
    }
  }
}

/**
 * The pause after the `n`th throttled answer in a row (n from 0): doubling from `baseMs` up to
 * `capMs`, with jitter so that deliveries throttled together do not all come back at one instant.
 */
export function backoff(n: number, baseMs: number, capMs: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** n);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
