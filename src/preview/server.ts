import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors.js';
import { GMAIL_CLIP_BYTES } from '../render/lint.js';
import { compileMerge, type Reader } from '../render/merge.js';
import { previewPage } from './page.js';
import { PreviewPreflight } from './preflight.js';
import { sampleReaders, type SampleReader } from './readers.js';
import type { PreviewSession } from './session.js';

export interface PreviewServerOptions {
  host: string;
  port: number;
  /** Sends a test of the current edition; the server only checks who may ask. */
  sendTest: (reader: SampleReader) => Promise<{ sent: { to: string }[]; transport: string }>;
  /** Where test sends go, as it can be shown (no credentials). */
  transport: string;
  readers?: SampleReader[];
  /** Run the preflight without the network (digest preview --offline). */
  offline?: boolean;
}

export interface PreviewServer {
  url: string;
  close(): Promise<void>;
}

const types: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
};

/**
 * The preview's HTTP server. It binds to 127.0.0.1 unless told otherwise, answers only to its own
 * host name (a page elsewhere cannot reach it through DNS rebinding), serves only the issue's own
 * outputs and the images the issue references, and sends a test only on a POST that carries this
 * session's token, which no other site can read.
 */
export async function startPreviewServer(session: PreviewSession, options: PreviewServerOptions): Promise<PreviewServer> {
  const token = randomBytes(24).toString('base64url');
  const readers = options.readers ?? sampleReaders;
  const listeners = new Set<ServerResponse>();
  let port = options.port;
  const preflight = new PreviewPreflight(session, { offline: Boolean(options.offline), changed: () => broadcast('preflight', { running: preflight.state.running }) });

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      if (!response.headersSent) send(response, 500, 'text/plain', 'The preview server failed: see the terminal.');
      process.stderr.write(`digest preview: ${(error as Error).stack}\n`);
    });
  });

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${options.host}:${port}`]);

  async function handle(request: IncomingMessage, response: ServerResponse) {
    if (!allowedHosts().has(request.headers.host ?? '')) return send(response, 421, 'text/plain', 'Unknown host.');
    const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
    const reader = readers[Number(url.searchParams.get('reader') ?? 0)] ?? readers[0]!;
    const edition = session.state.edition;

    if (request.method === 'POST' && url.pathname === '/api/test-send') return testSend(request, response);
    if (request.method === 'POST' && url.pathname === '/api/preflight') return startPreflight(request, response);
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'Method not allowed.');

    switch (url.pathname) {
      case '/':
        return send(response, 200, 'text/html; charset=utf-8', previewPage({ token, title: edition?.meta.title ?? session.file }));
      case '/api/state':
        return send(response, 200, 'application/json', JSON.stringify(stateOf()));
      case '/events':
        return events(response);
      case '/email.html': {
        if (!edition) return send(response, 503, 'text/plain', 'The issue has not been built yet.');
        let html = compileMerge(edition.html)(readerFor(reader));
        // Dark view: apply the dark-mode styles unconditionally, as a client in dark mode would.
        if (url.searchParams.get('dark') === '1') html = html.replace(/@media\s*\(prefers-color-scheme:\s*dark\)/g, '@media all');
        return send(response, 200, 'text/html; charset=utf-8', html);
      }
      case '/email.txt':
        if (!edition) return send(response, 503, 'text/plain', 'The issue has not been built yet.');
        return send(response, 200, 'text/plain; charset=utf-8', compileMerge(edition.text, 'text')(readerFor(reader)));
      case '/source.html':
        if (!edition) return send(response, 503, 'text/plain', 'The issue has not been built yet.');
        return send(response, 200, 'text/plain; charset=utf-8', edition.html);
    }
    if (url.pathname.startsWith('/files/')) return asset(url, response);
    return send(response, 404, 'text/plain', 'Not found.');
  }

  function readerFor(sample: SampleReader): Reader {
    return { subscriber: sample.subscriber, unsubscribe_url: '#unsubscribe-link-is-filled-when-sending' };
  }

  function stateOf() {
    const { edition, error, version, buildMs } = session.state;
    return {
      version,
      buildMs,
      error: error ?? null,
      from: session.config.from ?? null,
      subject: edition?.subject ?? null,
      preheader: edition?.preheader ?? null,
      htmlBytes: edition ? Buffer.byteLength(edition.html) : 0,
      clipBytes: GMAIL_CLIP_BYTES,
      diagnostics: session.diagnostics().map(({ code, severity, message, line }) => ({ code, severity, message, line })),
      readers: readers.map(({ label }) => ({ label })),
      testAddresses: session.config.testAddresses,
      transport: options.transport,
      preflight: { ...preflight.state, offline: Boolean(options.offline) },
    };
  }

  function broadcast(event: string, data: unknown) {
    for (const listener of listeners) listener.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  function events(response: ServerResponse) {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    response.write(`retry: 500\n\n`);
    listeners.add(response);
    response.on('close', () => listeners.delete(response));
  }

  const onBuild = () => broadcast('build', { version: session.state.version });
  session.on('build', onBuild);
  const heartbeat = setInterval(() => {
    for (const listener of listeners) listener.write(': still here\n\n');
  }, 15_000).unref();

  /** Only the images the issue itself references, and only from inside the project. */
  async function asset(url: URL, response: ServerResponse) {
    const edition = session.state.edition;
    let path: string;
    try {
      path = decodeURIComponent(url.pathname.slice('/files/'.length));
    } catch {
      return send(response, 400, 'text/plain', 'Bad path.');
    }
    const file = resolve(session.folder, path);
    const root = resolve(session.config.root);
    const inside = file.startsWith(root + sep) && !relative(root, file).split(sep).includes('..');
    if (!edition?.assets.includes(path) || !inside) return send(response, 404, 'text/plain', 'Not found.');
    try {
      return send(response, 200, types[extname(file).toLowerCase()] ?? 'application/octet-stream', await readFile(file));
    } catch {
      return send(response, 404, 'text/plain', 'Not found.');
    }
  }

  /** Same guard as the test send: only this page may start a run that fetches URLs and starts a browser. */
  function allowed(request: IncomingMessage): boolean {
    const given = Buffer.from(String(request.headers['x-digest-token'] ?? ''));
    const expected = Buffer.from(token);
    const origin = request.headers.origin;
    const sameOrigin = origin === undefined || allowedHosts().has(origin.replace(/^https?:\/\//, ''));
    return given.length === expected.length && timingSafeEqual(given, expected) && sameOrigin;
  }

  function startPreflight(request: IncomingMessage, response: ServerResponse) {
    if (!allowed(request)) return send(response, 403, 'application/json', JSON.stringify({ error: 'this page is not allowed to run the preflight' }));
    request.resume();
    void preflight.start();
    return send(response, 202, 'application/json', JSON.stringify({ running: true }));
  }

  async function testSend(request: IncomingMessage, response: ServerResponse) {
    if (!allowed(request)) return send(response, 403, 'application/json', JSON.stringify({ error: 'this page is not allowed to send' }));
    let body = '';
    for await (const chunk of request) {
      body += chunk;
      if (body.length > 10_000) return send(response, 413, 'application/json', JSON.stringify({ error: 'request too large' }));
    }
    let index = 0;
    try {
      index = Number((JSON.parse(body || '{}') as { reader?: number }).reader ?? 0);
    } catch {
      return send(response, 400, 'application/json', JSON.stringify({ error: 'the request is not JSON' }));
    }
    if (session.state.error || !session.state.edition) {
      return send(response, 409, 'application/json', JSON.stringify({ error: 'the issue does not build: fix it first' }));
    }
    try {
      const result = await options.sendTest(readers[index] ?? readers[0]!);
      return send(response, 200, 'application/json', JSON.stringify(result));
    } catch (error) {
      const message = error instanceof UserError ? error.message : 'the test could not be sent (see the terminal)';
      if (!(error instanceof UserError)) process.stderr.write(`digest preview: ${(error as Error).message}\n`);
      return send(response, 502, 'application/json', JSON.stringify({ error: message }));
    }
  }

  await new Promise<void>((listening, failed) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      failed(
        error.code === 'EADDRINUSE'
          ? new UserError(`port ${options.port} is in use: pass --port with another number (0 picks a free one)`, { code: 'port-in-use' })
          : error,
      );
    });
    server.listen(options.port, options.host, () => listening());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${shownHost}:${port}/`,
    async close() {
      clearInterval(heartbeat);
      await preflight.close();
      session.off('build', onBuild);
      for (const listener of listeners) listener.end();
      server.closeAllConnections();
      await new Promise<void>((closed) => server.close(() => closed()));
    },
  };
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer) {
  response.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'SAMEORIGIN',
  });
  response.end(body);
}
