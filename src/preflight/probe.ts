import { imageSize } from 'image-size';
import { request, type Dispatcher } from 'undici';

/** One answer on the way to a URL's final answer: each redirect is a hop of its own. */
export interface Hop {
  url: string;
  status: number;
}

/** Why a URL gave no final answer. */
export type FailureType = 'unreachable' | 'timeout' | 'tls' | 'redirect-loop' | 'too-many-redirects';

export interface Failure {
  type: FailureType;
  /** The system's or undici's code where there is one (`ENOTFOUND`, `DEPTH_ZERO_SELF_SIGNED_CERT`). */
  code?: string;
  /** The URL of the request that failed: the first, or a redirect's target. */
  at: string;
  message: string;
}

/** What was learnt of an image from its answer and its first bytes. */
export interface ImageFacts {
  /** From Content-Length, or the bytes read when the server sent none. */
  bytes?: number;
  /** Read up to the limit without reaching the end: `bytes` is a floor. */
  truncated?: boolean;
  width?: number;
  height?: number;
  /** `png`, `jpg`… as image-size names it. */
  format?: string;
  contentType?: string;
}

/** Everything a URL answered: the hops in order (the last is the final answer), or the failure. */
export interface Probe {
  url: string;
  kind: 'link' | 'image';
  hops: Hop[];
  /** The final answer's status; undefined when there was none (see `failure`). */
  status?: number;
  finalUrl: string;
  failure?: Failure;
  image?: ImageFacts;
  /** When it was fetched (ms since the epoch), for the cache. */
  checkedAt: number;
}

export interface ProbeOptions {
  dispatcher: Dispatcher;
  /** Per request: each hop of a redirect has its own. */
  timeoutMs: number;
  /** Redirects followed at most before `too-many-redirects`. */
  maxRedirects: number;
  /** The run's signal: aborting it rejects with its reason instead of reporting a failure. */
  signal?: AbortSignal;
  /** Counted once per request sent (tests and --verbose). */
  onRequest?: (method: string, url: string) => void;
}

/** An image's dimensions are looked for in this many bytes at most (a JPEG's frame header can follow a large EXIF block). */
export const DIMENSION_BYTES = 512 * 1024;
/** An image without Content-Length is read to its end to learn its size, up to this. */
export const IMAGE_READ_LIMIT = 20 * 1000 * 1000;
/** A link's body is never needed: up to this much is read so the connection can be reused, past it the connection is dropped. */
const DISCARD_LIMIT = 1024;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const HEADERS = {
  'user-agent': 'Mozilla/5.0 (compatible; digest-preflight; link check before a newsletter is sent)',
  'accept-encoding': 'identity',
};

/**
 * Fetches one URL the way a reader's browser would reach it, seeing every hop: redirects are followed
 * here, not by undici, up to `maxRedirects`, a URL seen twice being a loop. A link is asked with HEAD
 * first and with GET when HEAD gets 400 or more (405 and 501 say HEAD is refused; some servers answer
 * 403 or 404 to HEAD alone), its body never read. An image is asked with GET and read until image-size
 * knows its dimensions, and further only when the server gave no Content-Length.
 */
export async function probe(url: string, kind: Probe['kind'], options: ProbeOptions): Promise<Probe> {
  const result: Probe = { url, kind, hops: [], finalUrl: url, checkedAt: Date.now() };
  const seen = new Set([url]);
  let current = url;
  for (;;) {
    let answer: Answer;
    try {
      if (kind === 'image') answer = await ask(current, 'GET', kind, options);
      else {
        answer = await ask(current, 'HEAD', kind, options);
        if (answer.status >= 400) answer = await ask(current, 'GET', kind, options);
      }
    } catch (error) {
      options.signal?.throwIfAborted();
      result.failure = failureOf(error, current);
      return result;
    }
    result.hops.push({ url: current, status: answer.status });
    result.finalUrl = current;
    const location = REDIRECTS.has(answer.status) ? answer.location : undefined;
    if (location === undefined) {
      result.status = answer.status;
      if (answer.image) result.image = answer.image;
      return result;
    }
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      result.status = answer.status;
      return result;
    }
    next.hash = '';
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      result.status = answer.status;
      return result;
    }
    if (seen.has(next.href)) {
      result.failure = { type: 'redirect-loop', at: next.href, message: `redirects in a loop: ${[...result.hops.map((hop) => hop.url), next.href].join(' → ')}` };
      return result;
    }
    if (result.hops.length > options.maxRedirects) {
      result.failure = { type: 'too-many-redirects', at: current, message: `more than ${options.maxRedirects} redirects (${url} → … → ${current})` };
      return result;
    }
    seen.add(next.href);
    current = next.href;
  }
}

interface Answer {
  status: number;
  location?: string;
  image?: ImageFacts;
}

/** One request, its body discarded (or read for an image's facts), within the per-request timeout. */
async function ask(url: string, method: 'HEAD' | 'GET', kind: Probe['kind'], options: ProbeOptions): Promise<Answer> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  options.onRequest?.(method, url);
  try {
    const response = await request(url, {
      method,
      dispatcher: options.dispatcher,
      signal,
      headers: { ...HEADERS, accept: kind === 'image' ? 'image/*,*/*;q=0.8' : 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    const header = (name: string) => {
      const value = response.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const answer: Answer = { status: response.statusCode, location: header('location') };
    if (kind === 'image' && method === 'GET' && response.statusCode >= 200 && response.statusCode < 300) {
      answer.image = await readImage(response.body, header('content-length'), header('content-type'));
    } else {
      await response.body.dump({ limit: DISCARD_LIMIT, signal });
    }
    return answer;
  } catch (error) {
    if (timeout.aborted && !options.signal?.aborted) throw new TimedOut(options.timeoutMs);
    throw error;
  }
}

class TimedOut extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms / 1000} s`);
  }
}

async function readImage(body: AsyncIterable<Buffer> & { destroy(): unknown }, contentLength: string | undefined, contentType: string | undefined): Promise<ImageFacts> {
  const facts: ImageFacts = {};
  if (contentType) facts.contentType = contentType.split(';')[0]!.trim().toLowerCase();
  const declared = contentLength !== undefined && /^\d+$/.test(contentLength.trim()) ? Number(contentLength) : undefined;
  let head: Buffer = Buffer.alloc(0);
  let read = 0;
  let looking = true;
  try {
    for await (const chunk of body) {
      read += chunk.length;
      if (looking) {
        head = Buffer.concat([head, chunk]);
        try {
          const size = imageSize(head);
          facts.width = size.width;
          facts.height = size.height;
          facts.format = size.type;
          looking = false;
        } catch {
          // Not enough bytes yet, or not an image at all: keep reading up to DIMENSION_BYTES.
          if (head.length >= DIMENSION_BYTES) looking = false;
        }
        if (!looking) head = Buffer.alloc(0);
      }
      if (!looking && declared !== undefined) break;
      if (read >= IMAGE_READ_LIMIT) {
        facts.truncated = true;
        break;
      }
    }
  } finally {
    // Leaving the loop early stops the download; the connection is dropped, not drained.
    body.destroy();
  }
  if (looking && head.length > 0) {
    // The whole image arrived in fewer bytes than the limit and still said nothing: try once more whole.
    try {
      const size = imageSize(head);
      facts.width = size.width;
      facts.height = size.height;
      facts.format = size.type;
    } catch {
      // Not an image image-size knows: the check says so.
    }
  }
  facts.bytes = declared ?? read;
  return facts;
}

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|HOSTNAME_MISMATCH/;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/** What a failed request means to the editor: the host does not exist or refuses, it is too slow, or its certificate is bad. */
export function failureOf(error: unknown, at: string): Failure {
  if (error instanceof TimedOut) return { type: 'timeout', code: 'TIMEOUT', at, message: error.message };
  const code = codeOf(error);
  const reason = (error as Error)?.message ?? String(error);
  if (code && TIMEOUT_CODES.has(code)) return { type: 'timeout', code, at, message: reason };
  if (code && TLS_CODES.test(code)) return { type: 'tls', code, at, message: `TLS: ${reason} (${code})` };
  const host = hostOf(at);
  switch (code) {
    case 'ENOTFOUND':
      return { type: 'unreachable', code, at, message: `no such host: ${host} is not in DNS` };
    case 'EAI_AGAIN':
      return { type: 'unreachable', code, at, message: `${host} could not be looked up in DNS just now (EAI_AGAIN)` };
    case 'ECONNREFUSED':
      return { type: 'unreachable', code, at, message: `${host} refused the connection` };
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return { type: 'unreachable', code, at, message: `${host} closed the connection without answering` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { type: 'unreachable', code, at, message: `${host} cannot be reached from here (${code})` };
    default:
      return code ? { type: 'unreachable', code, at, message: `${reason} (${code})` } : { type: 'unreachable', at, message: reason };
  }
}

function codeOf(error: unknown): string | undefined {
  for (let current = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; current && depth < 4; current = current.cause as typeof current, depth++) {
    if (typeof current.code === 'string') return current.code;
  }
  return undefined;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
