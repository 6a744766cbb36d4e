import { randomBytes } from 'node:crypto';
import { emailKey } from '../audience/key.js';
import type { SubscriberStore } from '../audience/store.js';
import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { Channel } from './channels/index.js';
import { DEFAULT_TIMEOUT_MS } from './channels/smtp-pool.js';
import { Journal, type JournalEntry, type StateCounts } from './journal.js';
import { bounceKey } from '../bounces/verp.js';
import { MessageFactory } from './message.js';
import { audience, type AudienceSource } from './audience.js';
import { collectGarbage } from '../heap.js';
import { unsubscribeKey } from './unsubscribe.js';
import { readerKey } from '../tracking/token.js';

/** How a run paces itself: the flags of `digest send` that a scheduler might tune. */
export interface SendPacing {
  /** At most this many messages in this run. */
  limit?: number;
  /** Messages per second at most, across all connections. */
  rate?: number;
  concurrency: number;
  /** Attempts per reader within one run for replies that may pass (4xx, dropped connections). */
  attempts: number;
  /** The first wait before trying a reader again; it doubles each time. */
  retryDelayMs: number;
  retryUnknown?: boolean;
  /** The longest wait for any answer from the server (also bounds how long a stop waits). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface SendOptions extends SendPacing, AudienceSource {
  config: ResolvedConfig;
  channel: Channel;
  from: string;
  secret?: string;
  onProgress?: (progress: Progress) => void;
  onNotice?: (notice: string) => void;
  /**
   * Asked once the audience is in the journal, with how many readers are waiting: false stops the
   * send before anything goes out (the readers stay pending for a later run).
   */
  confirm?: (waiting: number) => Promise<boolean>;
}

export interface Progress {
  done: number;
  total: number;
  sent: number;
  failed: number;
  deferred: number;
  unknown: number;
}

export interface SendSummary {
  issue: string;
  /** Set when the confirmation was refused: nothing was sent. */
  declined?: boolean;
  recipients: number;
  sent: number;
  alreadySent: number;
  failed: number;
  deferred: number;
  unknown: number;
  /** Of those, the readers that became unknown in this run (cut off, or left by a run that died). */
  unknownNow: number;
  /** Readers left for a later run: not reached (--limit, a stop) or put back. */
  pending: number;
  excluded: number;
  /** Set when a signal stopped the run before it was through. */
  stopped?: boolean;
}

/**
 * Sends an issue to every reader in its audience who has not had it: enqueue the audience once,
 * settle what earlier runs left, then claim batches of readers and send them with a few
 * connections at once. Safe to run again at any moment, from any number of processes.
 */
export async function sendIssue(options: SendOptions): Promise<SendSummary> {
  const { edition, store, channel } = options;
  const issue = edition.meta.slug;
  const journal = new Journal(store.dialect, undefined, sendingLease(options.timeoutMs));
  const factory = new MessageFactory(edition, {
    from: options.from,
    newsletter: options.config.name,
    unsubscribeBase: unsubscribeBase(options),
    unsubscribeMailto: options.config.unsubscribeMailto,
    key: tokenKey(options),
    // Bounces come back tagged with their reader (VERP) when the config names a bounce address.
    bounce: options.config.bounceAddress && options.secret ? { address: options.config.bounceAddress, key: bounceKey(options.secret) } : undefined,
    // The outbox without a secret seals with a throwaway key, as its unsubscribe links are (tokenKey).
    readerKey: edition.readerLinks ? readerKey(options.secret ?? randomBytes(32).toString('hex')) : undefined,
  });

  const runStarted = new Date();
  const started = await journal.begin(issue, edition.subject, runStarted);
  let excluded = started.excluded;
  if (!started.enqueued) {
    excluded = 0;
    let batches = 0;
    for await (const batch of audience(options)) {
      excluded += batch.excluded;
      // Reading a large list leaves garbage too: collect it as the sending loop does.
      if (++batches % (GC_EVERY / 100) === 0) collectGarbage();
      await journal.enqueue(
        issue,
        batch.readers.map((reader) => ({ email: reader.email, key: emailKey(reader.email), name: reader.name, attributes: reader.attributes })),
      );
    }
    await journal.markEnqueued(issue, excluded);
  }
  const recovered = await journal.recover(issue);
  if (recovered.unknown) {
    options.onNotice?.(`${recovered.unknown} reader(s) were being sent to when an earlier run stopped: marked unknown, not sent again (see digest status; --retry-unknown sends them)`);
  }
  if (options.retryUnknown) await journal.retryUnknown(issue);

  const before = await journal.counts(issue);
  const total = Object.values(before).reduce((a, b) => a + b, 0);
  if (options.confirm && !(await options.confirm(before.pending + before.deferred))) {
    return { issue, recipients: total, sent: 0, alreadySent: before.sent, failed: before.failed, deferred: before.deferred, unknown: before.unknown, unknownNow: recovered.unknown, pending: before.pending, excluded, declined: true };
  }
  const progress: Progress = { done: before.sent + before.failed, total, sent: 0, failed: 0, deferred: 0, unknown: 0 };
  const pace = pacer(options.rate);
  let budget = options.limit ?? Number.POSITIVE_INFINITY;
  let fatal: string | undefined;
  const queue: JournalEntry[] = [];
  let exhausted = false;

  /** Claims more readers when the queue runs low; one claim at a time for all workers. */
  let claiming: Promise<void> | undefined;
  const refill = () =>
    (claiming ??= (async () => {
      const size = Math.min(Math.max(options.concurrency * 20, 50), budget - queue.length);
      if (size <= 0) {
        exhausted = true;
        return;
      }
      const claimed = await journal.claim(issue, size, runStarted);
      if (!claimed.length) exhausted = true;
      queue.push(...claimed);
    })().finally(() => {
      claiming = undefined;
    }));

  const stopped = () => fatal !== undefined || options.signal?.aborted === true;
  let handled = 0;

  // A stop (SIGTERM, SIGINT) claims nobody more and lets the messages in flight have their answers
  // for a few seconds; past that their connections are cut, and each is recorded as what it is then.
  let stopTimer: NodeJS.Timeout | undefined;
  const onStop = () => {
    stopTimer = setTimeout(() => channel.abort(), Math.min(options.timeoutMs ?? STOP_GRACE_MS, STOP_GRACE_MS));
    stopTimer.unref();
  };
  options.signal?.addEventListener('abort', onStop, { once: true });

  const deliverOne = async (entry: JournalEntry) => {
    for (let attempt = 1; ; attempt++) {
      await pace(options.signal);
      if (stopped()) return journal.release(issue, [entry.key]);
      const message = factory.build(entry, entry.key);
      // The mark is committed while the channel prepares (an SMTP envelope goes out): it holds back
      // the message's first byte until the commit is done (see Channel.deliver), so no message
      // leaves unmarked, and the commit costs a send no round trip of its own.
      const marked = journal.markSending(issue, entry.key, message.messageId, undefined, message.bounceTag);
      if (/[^\x00-\x7f]/.test(entry.email) && !channel.internationalOk) {
        if (!(await marked)) return;
        void journal.settle(issue, entry.key, 'failed', { reply: `${channel.description} cannot deliver to an address with non-ASCII characters (no SMTPUTF8)` });
        progress.failed++;
        return;
      }
      try {
        const { reply, route } = await channel.deliver(message, { key: entry.key, ready: marked });
        void journal.settle(issue, entry.key, 'sent', { reply, messageId: message.messageId, route: route ?? channel.description });
        progress.sent++;
        return;
      } catch (error) {
        // Whatever failed, the mark is settled first, so an outcome never shares its commit.
        if (!(await marked)) return; // another worker holds the reader now: nothing was sent
        const verdict = channel.classify(error);
        switch (verdict.kind) {
          case 'down':
            // Nothing reached the route for this reader: it stays to be sent by a later run.
            await journal.settle(issue, entry.key, 'pending', { reply: verdict.reply });
            await journal.release(issue, [entry.key]);
            fatal ??= verdict.reply;
            return;
          case 'failed':
            void journal.settle(issue, entry.key, 'failed', { reply: verdict.reply });
            if (verdict.bounce) await markBounced(store, entry.email, verdict.reply);
            progress.failed++;
            return;
          case 'unknown':
            void journal.settle(issue, entry.key, 'unknown', { reply: verdict.reply, messageId: message.messageId });
            progress.unknown++;
            return;
          case 'retry':
            if (verdict.pinned && (attempt >= options.attempts || stopped())) {
              // The route may have it, and only a repeat through that same route is harmless: a
              // later run might go another way, so the reader is unknown, not deferred.
              void journal.settle(issue, entry.key, 'unknown', { reply: verdict.reply, messageId: message.messageId });
              progress.unknown++;
              return;
            }
            if (attempt >= options.attempts || stopped()) {
              void journal.settle(issue, entry.key, 'deferred', { reply: verdict.reply });
              progress.deferred++;
              return;
            }
            await journal.settle(issue, entry.key, 'pending', { reply: verdict.reply });
            await sleep(options.retryDelayMs * 2 ** (attempt - 1), options.signal);
        }
      }
    }
  };

  const worker = async () => {
    while (!stopped()) {
      if (!queue.length) {
        if (exhausted) return;
        await refill();
        continue;
      }
      if (budget <= 0) return;
      budget--;
      await deliverOne(queue.shift()!);
      if (++handled % GC_EVERY === 0) collectGarbage();
      progress.done = before.sent + before.failed + progress.sent + progress.failed;
      options.onProgress?.({ ...progress });
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    options.signal?.removeEventListener('abort', onStop);
    clearTimeout(stopTimer);
    channel.close();
    // Every outcome is written before the unclaimed readers are given back and anything is counted.
    await journal.drain();
    await journal.release(issue, queue.splice(0).map((entry) => entry.key));
  }
  if (fatal) throw new UserError(`sending stopped: ${fatal}; the journal is intact, run again once fixed`, { code: 'route-down' });

  const after = await journal.counts(issue);
  if (after.pending === 0 && after.deferred === 0 && after.sending === 0) await journal.markCompleted(issue);
  return {
    issue,
    recipients: total,
    sent: progress.sent,
    alreadySent: before.sent,
    failed: after.failed,
    deferred: after.deferred,
    unknown: after.unknown,
    unknownNow: progress.unknown + recovered.unknown,
    pending: await journal.unreached(issue),
    excluded,
    ...(options.signal?.aborted ? { stopped: true } : {}),
  };
}

export function stateTotals(counts: StateCounts) {
  return { sent: counts.sent, failed: counts.failed, deferred: counts.deferred, unknown: counts.unknown, pending: counts.pending + counts.sending };
}

/**
 * Real sends need DIGEST_SECRET, so readers' links can be verified by `digest serve`. The outbox is
 * a rehearsal: without a secret its links are sealed with a throwaway key, and it says so.
 */
function tokenKey(options: SendOptions) {
  if (options.secret || options.channel.real) return unsubscribeKey(options.secret);
  options.onNotice?.('DIGEST_SECRET is not set: the unsubscribe links in the outbox use a throwaway key and will not verify');
  return unsubscribeKey(randomBytes(32).toString('hex'));
}

function unsubscribeBase(options: SendOptions): string {
  if (options.config.unsubscribeUrl) return options.config.unsubscribeUrl;
  if (options.channel.real) {
    throw new UserError('no unsubscribe endpoint: set unsubscribeUrl in the config or DIGEST_UNSUBSCRIBE_URL (an https:// URL served by digest serve)', {
      code: 'missing-unsubscribe-url',
    });
  }
  return 'https://unsubscribe.invalid/unsubscribe';
}

async function markBounced(store: SubscriberStore, email: string, reply: string) {
  const now = new Date().toISOString();
  await store.upsert([{ email, status: 'bounced', withdrawnAt: now, withdrawnHow: `bounce: ${reply.slice(0, 200)}`, international: /[^\x00-\x7f]/.test(email) }], {
    source: 'send',
    now,
  });
}

/**
 * How long a `sending` mark keeps a reader from other processes: a message waits for at most a
 * handful of answers (connect, greeting, envelope, data), each bounded by the timeout.
 */
function sendingLease(timeoutMs = DEFAULT_TIMEOUT_MS): number {
  return Math.max(15 * 60_000, 10 * timeoutMs);
}

/** Messages between two full collections (collectGarbage): about 1% of the time a send takes. */
const GC_EVERY = 2000;

/** How long a stop waits for the answers of the messages in flight before cutting them off. */
const STOP_GRACE_MS = 8_000;

/** Spaces sends to at most `rate` a second, shared by all workers. */
function pacer(rate?: number): (signal?: AbortSignal) => Promise<void> {
  if (!rate || rate <= 0) return async () => {};
  const gap = 1000 / rate;
  let next = 0;
  return async (signal) => {
    const now = performance.now();
    const at = Math.max(now, next);
    next = at + gap;
    if (at > now) await sleep(at - now, signal);
  };
}

/** Waits `ms`, or less if the signal fires; leaves no listener on the signal either way. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((done) => {
    const wake = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      done();
    };
    const timer = setTimeout(wake, ms);
    signal?.addEventListener('abort', wake, { once: true });
  });
}
