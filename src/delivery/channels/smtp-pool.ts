import { Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { stuffingTransform, verbatimTransform } from './dot-stuffing.js';

export interface PoolOptions {
  url: string;
  size: number;
  /** The longest wait for any answer from the server, in milliseconds (see openConnection). */
  timeoutMs?: number;
}

/** Without --timeout: a minute, well past what a healthy server takes to answer anything. */
export const DEFAULT_TIMEOUT_MS = 60_000;
/** Connecting and the greeting are quick on a healthy server: they get at most this long. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A failed attempt, with what the server can have seen: `afterData` is set when the whole message,
 * its closing dot included, had been handed to the connection before it failed without a reply.
 * Such a message may have been accepted (the reply can be what was lost), so sending it again risks
 * a second copy; a failure before that point means the server cannot have a complete message.
 */
export interface SendFailure extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  afterData?: boolean;
  /** Set when the message was held back (its `ready` said no): not a byte of it went out. */
  abandoned?: boolean;
}

/**
 * The message as a stream that yields nothing until `ready` resolves: then its pieces, or, if the
 * answer is no, an error before the first byte.
 */
function gated(pieces: Buffer[], ready: Promise<boolean>): Readable & { abandoned?: boolean } {
  // The answer is listened for at once, not when the stream is first read: a failure of `ready`
  // while the envelope is still on its way must not go unhandled.
  let go: boolean | Error | undefined;
  let waiting = false;
  const release = () => {
    if (go === true) {
      for (const piece of pieces) stream.push(piece);
      stream.push(null);
    } else {
      stream.abandoned = true;
      stream.destroy(go instanceof Error ? go : new Error("the reader is no longer this sender's to send"));
    }
  };
  ready.then(
    (answer) => {
      go = answer;
      if (waiting) release();
    },
    (error: unknown) => {
      go = error instanceof Error ? error : new Error(String(error));
      if (waiting) release();
    },
  );
  const stream: Readable & { abandoned?: boolean } = new Readable({
    read() {
      if (waiting) return;
      waiting = true;
      if (go !== undefined) release();
    },
  });
  return stream;
}

/** Messages per connection before it is replaced, as most providers limit a session. */
const MESSAGES_PER_CONNECTION = 500;

/**
 * A few SMTP connections, each sending one ready-made message at a time. The messages are complete
 * RFC 5322 bytes already (built once per issue and spliced per reader), so they go straight to
 * nodemailer's SMTP connection, which only dot-stuffs them (with the faster transform of
 * dot-stuffing.ts): none of the MIME machinery nodemailer's own transports run per message is
 * needed here.
 */
export class SmtpPool {
  private readonly idle: Connection[] = [];
  private open = 0;
  private readonly waiting: ((connection: Connection | undefined) => void)[] = [];
  private closed = false;
  /** The sends waiting for an answer: each one's connection and the way to end it at once (abort). */
  private readonly inFlight = new Map<(error: SendFailure) => void, Connection>();

  constructor(private readonly options: PoolOptions) {}

  /**
   * Sends one message, whole or in pieces written one after another; resolves with the server's
   * reply, rejects with nodemailer's error. A `transparent` message (CRLF only, no line beginning
   * with a dot, as MessageFactory builds them) skips dot-stuffing.
   *
   * With `ready`, the envelope (MAIL FROM, RCPT TO, DATA) goes out at once but no byte of the
   * message itself before `ready` resolves true: the journal's commit and the envelope's round trips
   * overlap. Should it resolve false or fail, the message is abandoned before its first byte, the
   * connection is closed without the closing dot (the server discards the transaction), and send
   * rejects with `abandoned` set.
   */
  async send(envelope: { from: string; to: string[] }, raw: Buffer | Buffer[], options: { transparent?: boolean; ready?: Promise<boolean> } = {}): Promise<string> {
    const pieces = Array.isArray(raw) ? raw : [raw];
    const message: Readable & { abandoned?: boolean } = options.ready ? gated(pieces, options.ready) : Readable.from(pieces, { objectMode: false });
    const connection = await this.acquire();
    connection.smtp.verbatim = options.transparent === true;
    connection.smtp.messageEnded = !connection.smtp.tracksMessageEnd;
    let abort: ((error: SendFailure) => void) | undefined;
    try {
      const info = await new Promise<{ response?: string }>((done, fail) => {
        abort = fail;
        this.inFlight.set(fail, connection);
        connection.smtp.send({ ...envelope, use8BitMime: false } as never, message, (error, result) => (error ? fail(error) : done(result as { response?: string })));
      });
      connection.sent++;
      this.release(connection, connection.sent >= MESSAGES_PER_CONNECTION);
      return String(info.response ?? '');
    } catch (error) {
      const failure = error as SendFailure;
      if (message.abandoned) {
        // In the middle of DATA: a QUIT would be read as message text. Closing ends it unfinished.
        connection.smtp.close();
        failure.abandoned = true;
      }
      // No reply to the end of the message (a timeout, a dropped line, an abort): it may have landed.
      if (!failure.responseCode && connection.smtp.messageEnded) failure.afterData = true;
      // After any failure the session's state is not to be trusted: start the next on a new one.
      this.release(connection, true);
      throw failure;
    } finally {
      if (abort) this.inFlight.delete(abort);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.smtp.quit();
    for (const wake of this.waiting.splice(0)) wake(undefined);
  }

  /**
   * Ends every send still waiting for the server at once (a stop that cannot wait longer): each
   * fails as a dropped connection would, and its connection is closed.
   */
  abort(): void {
    this.close();
    for (const [fail, connection] of [...this.inFlight]) {
      // Closed, not quit: a server busy with the message would not read a QUIT until it answered.
      connection.smtp.close();
      fail(Object.assign(new Error('stopped before the server answered'), { code: 'EABORT' }));
    }
  }

  private async acquire(): Promise<Connection> {
    if (this.closed) throw Object.assign(new Error('the connection pool is closed'), { code: 'EABORT' });
    const ready = this.idle.pop();
    if (ready) return ready;
    if (this.open < this.options.size) {
      this.open++;
      try {
        return await openConnection(this.options.url, this.options.timeoutMs);
      } catch (error) {
        this.open--;
        throw error;
      }
    }
    const handed = await new Promise<Connection | undefined>((wake) => this.waiting.push(wake));
    if (!handed) return this.acquire();
    return handed;
  }

  private release(connection: Connection, retire: boolean) {
    if (retire || this.closed) {
      this.open--;
      if (connection.smtp.alive) connection.smtp.quit();
      else connection.smtp.close();
      // Someone waiting can open a fresh connection now.
      this.waiting.shift()?.(undefined);
      return;
    }
    const next = this.waiting.shift();
    if (next) next(connection);
    else this.idle.push(connection);
  }
}

export interface Connection {
  smtp: StuffingConnection & { alive?: boolean };
  sent: number;
  extensions: string[];
}

/**
 * One SMTP session, connected and logged in; `extensions` are what the server's EHLO offered.
 * `timeoutMs` bounds every wait for the server. RFC 5321 allows a server ten minutes to answer the
 * end of DATA, but a send cannot stall that long on a silent server; a message whose answer does
 * not come in time is recorded as unknown, never sent again on its own (SendFailure.afterData).
 */
export async function openConnection(url: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Connection> {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'smtps:';
  const smtp = new StuffingConnection({
    host: parsed.hostname,
    port: Number(parsed.port || (secure ? 465 : 587)),
    secure,
    connectionTimeout: Math.min(timeoutMs, CONNECT_TIMEOUT_MS),
    greetingTimeout: Math.min(timeoutMs, CONNECT_TIMEOUT_MS),
    socketTimeout: timeoutMs,
  }) as Connection['smtp'];
  smtp.on('error', () => undefined); // surfaced through the callbacks of send and connect
  try {
    await new Promise<void>((done, fail) => {
      smtp.once('error', fail);
      smtp.connect(() => {
        smtp.off('error', fail);
        done();
      });
    });
    if (parsed.username) {
      await new Promise<void>((done, fail) =>
        smtp.login({ user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) }, (error) => (error ? fail(error) : done())),
      );
    }
  } catch (error) {
    // A half-open session would keep the process alive after the error is reported.
    smtp.close();
    throw error;
  }
  smtp.alive = true;
  smtp.once('end', () => (smtp.alive = false));
  // nodemailer keeps the EHLO extensions on the connection; it has no public accessor for them.
  return { smtp, sent: 0, extensions: (smtp as unknown as { _supportedExtensions?: string[] })._supportedExtensions ?? [] };
}

/**
 * nodemailer's SMTP connection, its data stream's byte-at-a-time transform swapped for one that
 * gives the same bytes a line at a time (tests/delivery/dot-stuffing.test.ts holds the two to the
 * same output), or, for the next message only when `verbatim` is set, for one that passes the
 * bytes on as they are. `_createSendStream` is nodemailer's internal step that makes that stream;
 * if a release renames it, this falls back to nodemailer's own transform, slower but as correct.
 */
class StuffingConnection extends SMTPConnection {
  verbatim = false;
  /**
   * Whether the message being sent has been handed over whole, its closing dot included: from then
   * on the server may accept it, and a lost reply leaves it unknown. Set when the data stream ends.
   */
  messageEnded = false;
  /**
   * Whether messageEnded is tracked. Without the hook below no failure can be placed before or
   * after the message, and every one is taken as after: never resending a message the server may
   * have is safe, if not precise.
   */
  readonly tracksMessageEnd: boolean;

  constructor(options: ConstructorParameters<typeof SMTPConnection>[0]) {
    super(options);
    const self = this as unknown as { _createSendStream?: (callback: unknown) => { _transform: unknown; once(event: 'end', listener: () => void): void } };
    const make = self._createSendStream;
    this.tracksMessageEnd = typeof make === 'function';
    if (typeof make !== 'function') return;
    self._createSendStream = (callback) => {
      const stream = make.call(this, callback);
      stream._transform = this.verbatim ? verbatimTransform : stuffingTransform;
      this.verbatim = false;
      stream.once('end', () => (this.messageEnded = true));
      return stream;
    };
  }
}
