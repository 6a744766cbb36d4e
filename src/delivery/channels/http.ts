import { setMaxListeners } from 'node:events';
import { Agent, request } from 'undici';
import { UserError } from '../../errors.js';
import { AbandonedDelivery, type Verdict } from './channel.js';
import { waitFromHeaders, type Headers } from './retry-after.js';
import { SharedPause } from './shared-pause.js';

/** A provider's answer: its status, headers and body (parsed when it is JSON). */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  /** Joined to the channel's base URL, which may have a path of its own (a proxy). */
  path: string;
  headers?: Record<string, string>;
  /** The body, whole or in pieces sent one after the other (a message's shared pieces, uncopied). */
  body?: Buffer | Buffer[];
  /** Nothing of the request goes out before this resolves true (see Channel.deliver). */
  ready?: Promise<boolean>;
  /** The provider drops a repeat of this request (an idempotency key): sending it again is safe. */
  idempotent?: boolean;
}

export interface HttpClientOptions {
  /** `postmark`: the first word of every message. */
  provider: string;
  base: URL;
  concurrency: number;
  timeoutMs: number;
  /** Sent with every request: the credentials. */
  headers: Record<string, string>;
  /** Strings that never appear in a message, whatever the provider echoes back. */
  secrets: string[];
  /** The provider's own words for a failed answer. */
  errorText(answer: HttpAnswer): string;
  /** Whether a 429 is a pause worth waiting out (not, say, a daily quota). Default: always. */
  waitable?(answer: HttpAnswer): boolean;
}

/** Waits for a rate limit, per delivery, before its 429 counts as a failure. */
export const MAX_RATE_LIMIT_WAITS = 5;
/** A rate limit that asks for longer than this is not waited for at all. */
export const MAX_RATE_LIMIT_WAIT_MS = 60_000;

/**
 * A request that got no useful answer: a refusal (`status`, with the provider's words) or no answer
 * at all (`code`, undici's or the socket's). `sent` says whether the whole request body had been
 * handed to the connection, that is whether the provider may have the message.
 */
export class HttpFailure extends Error {
  override readonly name = 'HttpFailure';
  readonly status?: number;
  readonly answer?: HttpAnswer;
  readonly code?: string;
  readonly sent: boolean;
  readonly idempotent: boolean;
  /** A 429 still there after the waits, or one that asked for too long a wait. */
  readonly rateLimited: boolean;

  constructor(message: string, details: { status?: number; answer?: HttpAnswer; code?: string; sent: boolean; idempotent?: boolean; rateLimited?: boolean; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.answer = details.answer;
    this.code = details.code;
    this.sent = details.sent;
    this.idempotent = details.idempotent ?? false;
    this.rateLimited = details.rateLimited ?? false;
  }
}

/**
 * One provider's HTTP connections: kept alive, at most `concurrency` of them, each request with a
 * deadline for its answer. A 429 pauses every request of the channel, not only the one that got it
 * (the limit is the account's), and the request is tried again after the wait, a bounded number
 * of times. abort() ends every request still waiting, and every wait, at once.
 */
export class HttpClient {
  private readonly agent: Agent;
  private controller = abortController();
  /** A rate limit's pause: no request of the channel starts while it lasts. */
  private readonly paused = new SharedPause();

  constructor(private readonly options: HttpClientOptions) {
    this.agent = new Agent({
      connections: Math.max(1, options.concurrency),
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** The answer when it is a success (2xx); otherwise rejects with an HttpFailure. */
  async send(call: HttpRequest): Promise<HttpAnswer> {
    const signal = this.controller.signal;
    if (call.ready) {
      // A `ready` that fails is a no, as for SMTP: the reader is not this sender's to send.
      const go = await untilAborted(call.ready.then((ok) => ok, () => false), signal, () => this.aborted(call));
      if (!go) throw new AbandonedDelivery();
    }
    for (let waits = 0; ; waits++) {
      await this.pause(signal, call);
      const answer = await this.once(call, signal);
      if (answer.status >= 200 && answer.status < 300) return answer;
      if (answer.status === 429 && (this.options.waitable?.(answer) ?? true)) {
        const wait = waitFromHeaders(answer.headers) ?? 1000 * 2 ** waits;
        if (waits < MAX_RATE_LIMIT_WAITS && wait <= MAX_RATE_LIMIT_WAIT_MS) {
          this.paused.extend(wait);
          continue;
        }
        const why = wait > MAX_RATE_LIMIT_WAIT_MS ? `it asks for a wait of ${Math.ceil(wait / 1000)} s` : `still limited after ${waits} waits`;
        throw this.refusal(answer, call, `rate limited, ${why}`);
      }
      throw this.refusal(answer, call);
    }
  }

  /** Lets the requests under way finish, then closes the connections. */
  close(): void {
    this.agent.close().catch(() => {});
  }

  /** Ends every request and every wait at once; each rejects with an HttpFailure. */
  abort(): void {
    this.controller.abort();
    this.controller = abortController();
  }

  private async once(call: HttpRequest, signal: AbortSignal): Promise<HttpAnswer> {
    const progress = { sent: false };
    const headers: Record<string, string> = { ...this.options.headers, ...call.headers };
    const pieces = call.body === undefined ? undefined : Array.isArray(call.body) ? call.body : [call.body];
    if (pieces) headers['content-length'] = String(pieces.reduce((total, piece) => total + piece.length, 0));
    const base = this.options.base.href.replace(/\/+$/, '');
    let status: number | undefined;
    try {
      const response = await request(`${base}${call.path}`, {
        dispatcher: this.agent,
        method: call.method,
        headers,
        // undici documents async iterables as bodies (Dispatcher.md); its types have not caught up.
        body: pieces ? (tracked(pieces, progress) as unknown as Uint8Array) : undefined,
        signal,
      });
      status = response.statusCode;
      const text = this.scrub(await response.body.text());
      let json: unknown;
      if (/\bjson\b/i.test(String(response.headers['content-type'] ?? '')) || /^\s*[{[]/.test(text)) {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      return { status, headers: response.headers, text, json };
    } catch (error) {
      const code = errorCode(error);
      const reason = signal.aborted ? 'aborted' : describeNetworkError(error, code, this.options.timeoutMs);
      const after = status === undefined ? '' : ` after a ${status} answer began`;
      throw new HttpFailure(`${this.options.provider}: ${reason}${after}`, { code, sent: progress.sent, idempotent: call.idempotent, cause: error });
    }
  }

  private refusal(answer: HttpAnswer, call: HttpRequest, note?: string): HttpFailure {
    const words = this.scrub(this.options.errorText(answer)).replace(/\s+/g, ' ').trim();
    return new HttpFailure(`${this.options.provider} ${answer.status}: ${words || '(no explanation)'}${note ? ` (${note})` : ''}`, {
      status: answer.status,
      answer,
      sent: true,
      idempotent: call.idempotent,
      rateLimited: answer.status === 429,
    });
  }

  private async pause(signal: AbortSignal, call: HttpRequest): Promise<void> {
    await this.paused.wait(signal).catch(() => {
      throw this.aborted(call);
    });
  }

  private aborted(call: HttpRequest): HttpFailure {
    return new HttpFailure(`${this.options.provider}: aborted before the request went out`, { code: 'UND_ERR_ABORTED', sent: false, idempotent: call.idempotent });
  }

  private scrub(text: string): string {
    let clean = text;
    for (const secret of this.options.secrets) if (secret) clean = clean.split(secret).join('***');
    return clean;
  }
}

/** One signal for every request of the channel: as many listeners as requests and waits in flight. */
function abortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/**
 * The body as undici pulls it: the code after the last chunk runs only once undici has written
 * that chunk to the socket and asks for more, so `sent` is set when the whole body is out (in the
 * kernel's hands, which is as far as anyone can know), and never for a connection that broke before.
 */
async function* tracked(pieces: Buffer[], progress: { sent: boolean }): AsyncGenerator<Buffer> {
  for (const piece of pieces) yield piece;
  progress.sent = true;
}

/** Resolves as the promise does, or rejects with `failure()` as soon as the signal aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, failure: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(failure());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(failure());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function errorCode(error: unknown): string | undefined {
  const { code, errors } = error as { code?: unknown; errors?: unknown[] };
  if (typeof code === 'string') return code;
  // Node's happy-eyeballs connect gives an AggregateError of each address's failure.
  const inner = Array.isArray(errors) ? (errors[0] as { code?: unknown } | undefined)?.code : undefined;
  return typeof inner === 'string' ? inner : undefined;
}

/** Nothing to talk to: no server listening, a name that does not resolve, a TLS handshake refused. */
export function unreachable(code: string | undefined): boolean {
  if (!code) return false;
  return (
    ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'EPROTO'].includes(code) ||
    /^ERR_TLS_|^ERR_SSL_|CERT|^UNABLE_TO_/.test(code)
  );
}

function describeNetworkError(error: unknown, code: string | undefined, timeoutMs: number): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused: nothing is listening there (ECONNREFUSED)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name does not resolve (${code})`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `no connection within ${timeoutMs / 1000} s (${code})`;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return `no answer within ${timeoutMs / 1000} s (${code})`;
    case 'UND_ERR_SOCKET':
      return `the connection closed without an answer (${code})`;
    default: {
      const message = (error as Error)?.message || String(error);
      return code ? `${message} (${code})` : message;
    }
  }
}

/**
 * What a failed request means, for every HTTP provider alike; `specific` reads the provider's own
 * refusals first (its error codes), and anything it leaves goes by the HTTP status:
 * - no answer, the body not all out: `down` when there was nothing to talk to (refused, no such
 *   host, TLS failure), `retry` otherwise (the connection broke early);
 * - no answer after the whole body went out: `unknown` (the provider may have taken it), unless
 *   it drops a repeat of the request (an idempotency key), where sending again is `retry`;
 * - 401/403: `down` (credentials refused, nothing will pass); 408, 429 and 5xx: `retry`;
 * - any other 4xx: `failed` for this reader, not a bounce.
 * Anything but an HttpFailure (a missing credential, a DKIM key that cannot sign) happened before
 * any request and would happen to every reader: `down`.
 */
export function classifyHttp(error: unknown, specific?: (failure: HttpFailure & { status: number }) => Verdict | undefined): Verdict {
  if (!(error instanceof HttpFailure)) return { kind: 'down', reply: error instanceof Error ? error.message : String(error) };
  const reply = error.message;
  if (error.status === undefined) {
    if (error.sent) {
      return error.idempotent
        ? { kind: 'retry', reply: `${reply}; safe to send again here: the provider drops a repeat of the same idempotency key`, pinned: true }
        : { kind: 'unknown', reply: `${reply}, after the whole message was sent: the provider may have accepted it` };
    }
    return unreachable(error.code) ? { kind: 'down', reply } : { kind: 'retry', reply };
  }
  const verdict = specific?.(error as HttpFailure & { status: number });
  if (verdict) return verdict;
  const { status } = error;
  if (status === 401 || status === 403) return { kind: 'down', reply: `the provider refused the credentials: ${reply}` };
  if (status === 408 || status === 429 || status >= 500) return { kind: 'retry', reply };
  return { kind: 'failed', reply, bounce: false };
}

/**
 * verify() for every HTTP provider: one cheap authenticated request; a refusal of the credentials,
 * nothing listening, or what `problem` finds in the answer becomes a UserError (route-unavailable)
 * that names the route by its description only. `accept` lets a provider pass a refusal that still
 * proves the key good (a key restricted to sending); `refused` recognises a refusal of the key
 * that does not come as a 401 or 403.
 */
export async function verifyRoute(
  client: HttpClient,
  description: string,
  call: HttpRequest,
  checks: { problem?(answer: HttpAnswer): string | undefined; accept?(failure: HttpFailure): boolean; refused?(failure: HttpFailure): boolean } = {},
): Promise<void> {
  let answer: HttpAnswer;
  try {
    answer = await client.send(call);
  } catch (error) {
    if (error instanceof HttpFailure && checks.accept?.(error)) return;
    const refused = error instanceof HttpFailure && (error.status === 401 || error.status === 403 || !!checks.refused?.(error));
    const reason = refused ? `the provider refused the credentials (${(error as Error).message})` : verifyReason(error);
    throw new UserError(`cannot send through ${description}: ${reason}`, { code: 'route-unavailable', cause: error });
  }
  const problem = checks.problem?.(answer);
  if (problem) throw new UserError(`cannot send through ${description}: ${problem}`, { code: 'route-unavailable' });
}

function verifyReason(error: unknown): string {
  if (!(error instanceof HttpFailure)) return (error as Error)?.message ?? String(error);
  if (error.status === undefined && unreachable(error.code)) return `nothing to talk to (${error.message})`;
  return error.message;
}
