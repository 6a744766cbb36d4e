import type { OutgoingMessage } from '../message.js';

/**
 * One way a built message leaves: an SMTP server, an HTTP provider, the outbox folder, or several
 * of those in turn (failover). The send loop knows only this interface: how a route connects,
 * what its answers mean and when it is down are the channel's own business.
 */
export interface Channel {
  /** Safe to print: scheme and host, region or domain, never a credential. */
  readonly description: string;
  /** False for the outbox: nothing leaves the machine. */
  readonly real: boolean;
  /** Whether addresses with non-ASCII characters can be delivered (SMTPUTF8); known after verify(). */
  readonly internationalOk: boolean;
  /**
   * Checks the route before anything is sent or recorded: reachable, credentials accepted. Throws
   * a UserError (code `route-unavailable`) that says what is wrong, without the credentials.
   */
  verify(): Promise<void>;
  /**
   * Delivers one message, as the message factory built it (bytes and envelope). With `ready`, the
   * channel may prepare (an SMTP envelope, a connection) but hands over no byte of the message
   * before `ready` resolves true; if it resolves false, nothing is sent and the delivery rejects.
   * Rejects with the channel's own error, which classify() reads.
   */
  deliver(message: OutgoingMessage, options?: DeliverOptions): Promise<Delivery>;
  /** What a failed delivery means for the reader and for the route. */
  classify(error: unknown): Verdict;
  /** Finishes the deliveries under way, then lets go of connections. */
  close(): void;
  /** Ends the deliveries still waiting for an answer at once: each rejects (see classify). */
  abort(): void;
}

export interface DeliverOptions {
  /** The reader's key in the journal: the name of their file in the outbox. */
  key?: string;
  ready?: Promise<boolean>;
}

export interface Delivery {
  /** The server's or provider's answer, as it may be printed and stored (its message id, say). */
  reply: string;
  /** The description of the route that carried it, where a channel has several (failover). */
  route?: string;
}

/**
 * What a failed attempt means:
 * - `retry`: nothing complete reached the route, or it said "later" (4xx, 429, 5xx of a provider):
 *   the reader may be tried again (`pinned`: only through the same route).
 * - `failed`: refused for this reader for good; `bounce` when the address itself is dead.
 * - `unknown`: the whole message went out and no answer came back: it may have been accepted, so
 *   it is not sent again on its own.
 * - `down`: the route cannot carry anything now (nothing listening, credentials refused, account
 *   paused); nothing reached it for this reader. Failover moves on; without another route the
 *   send stops and the reader stays for a later run.
 */
export type Verdict =
  | {
      kind: 'retry';
      reply: string;
      /**
       * The route may have accepted the message (its answer was lost) and drops a repeat of it
       * (an idempotency key): only the same route may try again. Through another route, or once
       * the attempts are spent, the reader is `unknown`.
       */
      pinned?: boolean;
    }
  | { kind: 'failed'; reply: string; bounce: boolean }
  | { kind: 'unknown'; reply: string }
  | { kind: 'down'; reply: string };

/** Thrown by a delivery whose `ready` said no: not a byte of the message went out. */
export class AbandonedDelivery extends Error {
  readonly abandoned = true;
  constructor() {
    super("the reader is no longer this sender's to send");
  }
}

/**
 * What every channel's factory is given, besides its URL: how many messages it may have in flight,
 * the longest wait for an answer, the DKIM signer for channels that carry our own bytes, the
 * environment to read credentials from, and where the outbox writes.
 */
export interface ChannelSettings {
  concurrency: number;
  timeoutMs: number;
  dkim?: import('../dkim.js').DkimSigner;
  env: NodeJS.ProcessEnv;
  /** The issue being sent: the outbox writes each issue into a folder of its own. */
  slug: string;
  /** The project folder, against which a relative outbox folder is resolved. */
  root: string;
}
