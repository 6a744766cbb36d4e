import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One request as the server read it, body whole. */
export interface Incoming {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An answer: a JSON body for objects, text for strings, nothing for undefined. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * Misbehaviour on demand, for the requests that send a message (the provider says which those
 * are); counts are of such requests, in the order they arrive:
 * - `rateLimit`: the first `count` get a 429 with the provider's headers (Retry-After, say);
 * - `serverError`: the first `count` (after any rate limit) get a 5xx;
 * - `drop`: the first `count` are read whole, handled (accepted or not, as `process` says), and
 *   then their connection is destroyed instead of answered;
 * - `slowMs`: every answer waits this long;
 * - `unauthorized`: every request, sending or not, is refused as a bad key;
 * - `answer`: a provider-specific refusal for a request, or undefined to let it through.
 */
export interface Faults {
  rateLimit?: { count: number; headers: Record<string, string> };
  serverError?: { count: number; status?: number };
  drop?: { count: number; process?: boolean };
  slowMs?: number;
  unauthorized?: boolean;
  answer?: (request: Incoming) => Reply | undefined;
}

/** What a provider's fake knows of its own API: the documented paths, checks and answers. */
export interface ProviderApi {
  /** Whether the request carries the right credentials, in the provider's scheme. */
  authorized(request: Incoming): boolean;
  /** The provider's answer to a bad or missing key. */
  unauthorized(request: Incoming): Reply;
  /** Whether the request sends a message (faults apply to those only). */
  sends(request: Incoming): boolean;
  /** The answer to a request that got through: it checks the request as the provider's docs say, and records what it accepts. */
  handle(request: Incoming): Reply | Promise<Reply>;
}

export interface ProviderServer {
  url: string;
  /** TCP connections opened to the server. */
  readonly connections: number;
  /** Every request, in order. */
  readonly requests: Incoming[];
  /** Answers that faulted the request's shape: a test expects none. */
  readonly malformed: { request: Incoming; reply: Reply }[];
  faults: Faults;
  close(): Promise<void>;
}

/** A provider's API on 127.0.0.1 (port 0), answering as `api` says and misbehaving as `faults` asks. */
export async function startProvider(api: ProviderApi): Promise<ProviderServer> {
  let connections = 0;
  let sending = 0;
  const requests: Incoming[] = [];
  const malformed: { request: Incoming; reply: Reply }[] = [];
  const state = { faults: {} as Faults };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const request: Incoming = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks) };
    requests.push(request);
    const faults = state.faults;
    if (faults.slowMs) await sleep(faults.slowMs);
    if (faults.unauthorized || !api.authorized(request)) return send(res, api.unauthorized(request));
    if (!api.sends(request)) return send(res, await api.handle(request));

    const index = sending++;
    const limited = faults.rateLimit?.count ?? 0;
    const failing = limited + (faults.serverError?.count ?? 0);
    if (index < limited) return send(res, { status: 429, headers: faults.rateLimit!.headers, body: { message: 'Too many requests' } });
    if (index < failing) return send(res, { status: faults.serverError!.status ?? 500, body: { message: 'Internal server error' } });
    if (index < failing + (faults.drop?.count ?? 0)) {
      if (faults.drop!.process) await api.handle(request);
      req.socket.destroy();
      return;
    }
    const refusal = faults.answer?.(request);
    if (refusal) return send(res, refusal);
    const reply = await api.handle(request);
    if (reply.status >= 400) malformed.push({ request, reply });
    send(res, reply);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    requests,
    malformed,
    get faults() {
      return state.faults;
    },
    set faults(faults: Faults) {
      state.faults = faults;
      sending = 0;
    },
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  const json = reply.body !== undefined && typeof reply.body !== 'string';
  const body = reply.body === undefined ? '' : json ? JSON.stringify(reply.body) : (reply.body as string);
  res.writeHead(reply.status, {
    ...(reply.body === undefined ? {} : { 'content-type': json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8' }),
    ...reply.headers,
  });
  res.end(body);
}

/** A header's one value. */
export function header(request: Incoming, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The request body as JSON, or undefined when it is not JSON. */
export function jsonBody(request: Incoming): unknown {
  try {
    return JSON.parse(request.body.toString('utf8'));
  } catch {
    return undefined;
  }
}
