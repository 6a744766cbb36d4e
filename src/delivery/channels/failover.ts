import type { Channel, Verdict } from './channel.js';

/** One route of several: a channel with its own pace. */
export interface Route {
  channel: Channel;
  /** Messages in flight on this route at most. */
  concurrency: number;
  /** Messages a second on this route at most. */
  rate?: number;
}

export interface FailoverOptions {
  /** Temporary failures in a row, with no success between them, that take a route down. */
  failAfter: number;
  notice?: (message: string) => void;
}

/**
 * Routes tried in order: everything goes through the first that is up. A route goes down when its
 * channel says so (nothing listening, credentials refused, account paused), or after a run of
 * temporary failures that no success interrupts; the send says so and carries on through the next
 * one. A route that went down stays down for the rest of the run; the next run starts again from
 * the first. The message being delivered when its route went down reached nothing (that is what
 * `down` and `retry` mean), so it goes through the next route at once.
 */
export function failoverChannel(routes: Route[], options: FailoverOptions): Channel {
  const states = routes.map((route) => new RouteState(route));
  /** Which route each failure came from, for classify(). */
  const origin = new WeakMap<object, RouteState>();
  /**
   * Messages a route may have accepted and would take again harmlessly (a `pinned` retry, by
   * Message-ID): they go through that route or nowhere, so no other route can make a second copy.
   */
  const pinned = new Map<string, RouteState>();
  const current = () => states.find((state) => !state.down);

  const takeDown = (state: RouteState, reason: string) => {
    if (state.down) return;
    state.down = reason;
    const next = current();
    options.notice?.(`${state.route.channel.description} is down (${reason}); ${next ? `going on through ${next.route.channel.description}` : 'no route is left'}`);
  };

  return {
    description: routes.map((route) => route.channel.description).join(', failing over to '),
    real: routes.some((route) => route.channel.real),
    get internationalOk() {
      return current()?.route.channel.internationalOk ?? false;
    },
    async verify() {
      let first: unknown;
      for (const state of states) {
        try {
          await state.route.channel.verify();
        } catch (error) {
          first ??= error;
          takeDown(state, (error as Error).message);
        }
      }
      if (!current()) throw first;
    },
    async deliver(message, deliverOptions) {
      let lastDown: unknown;
      const pin = pinned.get(message.messageId);
      if (pin?.down) {
        pinned.delete(message.messageId);
        throw new PinnedToDownRoute(pin.route.channel.description);
      }
      for (;;) {
        const state = pin ?? current();
        if (!state) throw lastDown ?? new Error('no delivery route is up');
        const release = await state.acquire();
        try {
          const delivery = await state.route.channel.deliver(message, deliverOptions);
          pinned.delete(message.messageId);
          state.failures = 0;
          return { reply: delivery.reply, route: delivery.route ?? state.route.channel.description };
        } catch (error) {
          if (typeof error !== 'object' || error === null || (error as { abandoned?: boolean }).abandoned) throw error;
          origin.set(error, state);
          const verdict = state.route.channel.classify(error);
          if (verdict.kind === 'retry' && verdict.pinned) pinned.set(message.messageId, state);
          else pinned.delete(message.messageId);
          if (verdict.kind === 'down') {
            takeDown(state, verdict.reply);
            // An earlier attempt through this route may have been accepted: no other route for it.
            if (pin) throw new PinnedToDownRoute(state.route.channel.description);
            lastDown = error;
            continue;
          }
          if (verdict.kind === 'retry' && ++state.failures >= options.failAfter) {
            takeDown(state, `${state.failures} temporary failures in a row, the last: ${verdict.reply}`);
            // Nothing complete reached the route (that is what retry means): the next one takes it now.
            if (current() && !verdict.pinned) continue;
          }
          throw error;
        } finally {
          release();
        }
      }
    },
    classify(error): Verdict {
      if (error instanceof PinnedToDownRoute) return { kind: 'unknown', reply: error.message };
      const state = typeof error === 'object' && error !== null ? origin.get(error) : undefined;
      if (!state) return { kind: 'down', reply: (error as Error)?.message ?? String(error) };
      const verdict = state.route.channel.classify(error);
      // Prefixed with the route, so the journal says which provider answered what.
      return { ...verdict, reply: `${state.route.channel.description}: ${verdict.reply}` };
    },
    close() {
      for (const route of routes) route.channel.close();
    },
    abort() {
      for (const route of routes) route.channel.abort();
    },
  };
}

/** A message that only a route now down could carry without the risk of a second copy. */
class PinnedToDownRoute extends Error {
  constructor(route: string) {
    super(`${route} may have accepted this message before its answer was lost, and is down now: not sent through another route`);
  }
}

/** A route's health and its share of the send: a semaphore for its concurrency, a pacer for its rate. */
class RouteState {
  down?: string;
  failures = 0;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private next = 0;

  constructor(readonly route: Route) {}

  async acquire(): Promise<() => void> {
    if (this.inFlight >= this.route.concurrency) await new Promise<void>((wake) => this.waiting.push(wake));
    else this.inFlight++;
    if (this.route.rate && this.route.rate > 0) {
      const now = performance.now();
      const at = Math.max(now, this.next);
      this.next = at + 1000 / this.route.rate;
      if (at > now) await new Promise((wake) => setTimeout(wake, at - now));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the next waiter, if any; otherwise it is freed.
      const wake = this.waiting.shift();
      if (wake) wake();
      else this.inFlight--;
    };
  }
}
