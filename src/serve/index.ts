import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SubscriberStore } from '../audience/store.js';
import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { UnsubscribeKey } from '../delivery/unsubscribe.js';
import { LiveSite, contentType } from './site.js';
import { handleUnsubscribe } from './unsubscribe.js';
import { UnsubscribeBatcher } from './batch.js';
import { generalPage, plainPage } from './pages.js';
import { send, sendHtml, type Reply } from './reply.js';
import { signupRoutes } from './signup.js';
import type { SignupService } from '../signup/service.js';
import { ledgerFor } from '../bounces/ledger.js';
import { WebhookDispatcher, type Webhooks } from '../bounces/webhooks/index.js';
import { WEBHOOK_PREFIX, webhookRoute } from './webhooks.js';
import { reportRoute } from './report.js';
import { handleClick, type ClickKeys } from './clicks.js';
import { ClickCounter } from '../tracking/counter.js';

export type LogEntry = Record<string, unknown>;

export interface ServeOptions {
  config: ResolvedConfig;
  store: SubscriberStore;
  key: UnsubscribeKey;
  host: string;
  port: number;
  /** One structured entry per line; default: JSON on stderr. */
  log?: (entry: LogEntry) => void;
  /** How long the archive plan is kept before the build folder is read again. */
  siteTtlMs?: number;
  /** Sign-up with double opt-in at <base>/subscribe and <base>/confirm (config signup.enabled). */
  signup?: SignupService;
  /** Providers' bounce and complaint webhooks at /webhooks/<provider> (src/bounces/webhooks/). */
  webhooks?: Webhooks;
  /** Open the tokens of tracked links at <archive>/c/ (src/serve/clicks.ts); without them that path is not served. */
  clicks?: ClickKeys;
  /** The report at <base>/report for whoever holds this token (DIGEST_REPORT_TOKEN); off without it. */
  reportToken?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  /** Stops accepting, lets requests in flight finish (at most `graceMs`), writes the clicks counted, then resolves. */
  close(graceMs?: number): Promise<void>;
}

export const HEALTH_PATH = '/healthz';

/** The paths the server answers on, from the public URLs in the config (the proxy forwards them unchanged). */
export function routes(config: ResolvedConfig): { unsubscribe: string; archive: string; clicks: string } {
  if (!config.unsubscribeUrl) {
    throw new UserError('digest serve needs the public unsubscribe URL: set baseUrl to an https:// URL, or unsubscribeUrl (or DIGEST_UNSUBSCRIBE_URL)', {
      file: config.file,
      code: 'missing-unsubscribe-url',
    });
  }
  const unsubscribe = new URL(config.unsubscribeUrl).pathname.replace(/\/+$/, '');
  if (!unsubscribe) {
    throw new UserError(`unsubscribeUrl ${config.unsubscribeUrl} needs a path such as /unsubscribe, so that its links do not collide with the archive`, {
      file: config.file,
      code: 'invalid-unsubscribe-url',
    });
  }
  const archive = config.baseUrl ? new URL(config.baseUrl).pathname.replace(/\/+$/, '') : '';
  return { unsubscribe, archive, clicks: `${archive}/c/` };
}

/**
 * `digest serve`: one-click unsubscribe (RFC 8058), the confirm page, the web archive, a health
 * check and, when configured, providers' bounce webhooks, over the subscriber database. Answers
 * never carry a stack trace; each request is one JSON line in the access log, with unsubscribe
 * and click tokens left out of it.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const { config } = options;
  const paths = routes(config);
  const log = options.log ?? ((entry: LogEntry) => process.stderr.write(`${JSON.stringify(entry)}\n`));
  const site = new LiveSite(config, options.siteTtlMs);

  const server = createServer((request, response) => {
    const started = process.hrtime.bigint();
    let path = (request.url ?? '/').split('?')[0]!;
    if (path.startsWith(`${paths.unsubscribe}/`)) path = `${paths.unsubscribe}/…`;
    else if (path.startsWith(paths.clicks)) path = `${paths.clicks}…`;
    response.once('close', () => {
      log({
        time: new Date().toISOString(),
        level: 'info',
        msg: 'request',
        method: request.method,
        path,
        status: response.statusCode,
        ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
        bytes: Number(response.getHeader('content-length') ?? 0),
        ...(response.writableFinished ? {} : { aborted: true }),
      });
    });
    handle(request, response).catch((error: unknown) => {
      log({ time: new Date().toISOString(), level: 'error', msg: 'request failed', path, error: (error as Error)?.message ?? String(error) });
      if (!response.headersSent) sendHtml(response, request, 500, plainPage(config, 'Something went wrong', 'Something went wrong on our side. Nothing was changed; please try again in a minute.'));
      else response.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;

  const signup = options.signup
    ? signupRoutes(
        config,
        options.signup,
        { subscribe: `${paths.archive}/subscribe`, confirm: `${paths.archive}/confirm`, confirmUrl: `${(config.baseUrl ?? '').replace(/\/+$/, '')}/confirm` },
        log,
        async () => (await site.plan()).editions,
      )
    : undefined;
  const webhook = options.webhooks
    ? webhookRoute(
        new WebhookDispatcher(options.webhooks, ledgerFor(options.store, config)),
        log,
        notFound,
      )
    : undefined;
  const batcher = new UnsubscribeBatcher(options.store, undefined, (error) =>
    log({ time: new Date().toISOString(), level: 'error', msg: 'unsubscribe not counted for the report', error: (error as Error)?.message ?? String(error) }),
  );
  const counter = new ClickCounter(options.store.dialect, { log });
  const clicks = options.clicks && { config, keys: options.clicks, counter, log };
  const reply: Reply = { config, store: options.store, key: options.key, log, unsubscribe: (email, how, issue) => batcher.unsubscribe(email, how, issue) };
  const report = options.reportToken ? reportRoute(reply, options.reportToken) : undefined;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!;
    if (path === HEALTH_PATH) return health(request, response);
    if (webhook && path.startsWith(WEBHOOK_PREFIX)) return webhook(request, response, path);
    if (path === paths.unsubscribe || path === `${paths.unsubscribe}/`) {
      if (!readOnly(request, response)) return;
      return sendHtml(response, request, 200, generalPage(config), { 'cache-control': 'public, max-age=300' });
    }
    if (path.startsWith(`${paths.unsubscribe}/`)) return handleUnsubscribe(reply, request, response, path.slice(paths.unsubscribe.length + 1));
    if (clicks && path.startsWith(paths.clicks)) return handleClick(clicks, request, response, path.slice(paths.clicks.length));
    if (report && path === `${paths.archive}/report`) return report(request, response);
    if (signup && path === `${paths.archive}/subscribe`) return signup.subscribe(request, response);
    if (signup && path === `${paths.archive}/confirm`) return signup.confirm(request, response);
    return archive(request, response, path);
  }

  async function health(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!readOnly(request, response)) return;
    try {
      await Promise.race([
        options.store.get('health-check@digest.invalid'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('the database did not answer within 2 s')), 2000).unref()),
      ]);
      send(response, request, 200, 'application/json', '{"status":"ok"}\n', { 'cache-control': 'no-store' });
    } catch (error) {
      log({ time: new Date().toISOString(), level: 'error', msg: 'health check failed', error: (error as Error).message });
      send(response, request, 503, 'application/json', '{"status":"unavailable"}\n', { 'cache-control': 'no-store' });
    }
  }

  async function archive(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const mount = paths.archive;
    if (mount && (path === '/' || path === mount)) return redirect(request, response, `${mount}/`);
    if (!path.startsWith(`${mount}/`)) return notFound(request, response);
    let relative: string;
    try {
      relative = decodeURIComponent(path.slice(mount.length + 1));
    } catch {
      return notFound(request, response);
    }
    if (relative.split('/').some((segment) => segment === '..' || segment === '.' || segment.startsWith('.')) || relative.includes('\\') || relative.includes('\0')) {
      return notFound(request, response);
    }
    const file = relative === '' || relative.endsWith('/') ? `${relative}index.html` : relative;
    const bytes = await site.file(file);
    if (!bytes) {
      if (!relative.endsWith('/') && (await site.has(`${relative}/index.html`))) return redirect(request, response, `${path}/`);
      return notFound(request, response);
    }
    if (!readOnly(request, response)) return;
    send(response, request, 200, contentType(file), bytes, { 'cache-control': 'public, max-age=300' });
  }

  function redirect(request: IncomingMessage, response: ServerResponse, location: string): void {
    if (!readOnly(request, response)) return;
    send(response, request, 301, 'text/plain; charset=utf-8', `Moved to ${location}\n`, { location });
  }

  function notFound(request: IncomingMessage, response: ServerResponse): void {
    sendHtml(response, request, 404, plainPage(config, 'Not found', 'There is no page at this address.'));
  }

  /** GET and HEAD only; anything else is told so. */
  function readOnly(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.method === 'GET' || request.method === 'HEAD') return true;
    send(response, request, 405, 'text/plain; charset=utf-8', 'Method not allowed.\n', { allow: 'GET, HEAD' });
    return false;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL' ? new UserError(`cannot listen on ${options.host}:${options.port} (${error.code})`, { code: 'cannot-listen' }) : error),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          // Every request has had its answer; the clicks and unsubscribes they counted are written before the database closes.
          Promise.all([counter.flush(), batcher.flush()]).then(() => resolve(), () => resolve());
        });
        server.closeIdleConnections();
      }),
  };
}
