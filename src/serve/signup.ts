import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedConfig } from '../config.js';
import { isUserError } from '../errors.js';
import type { SignupLedger } from '../signup/ledger.js';
import type { SignupService } from '../signup/service.js';
import type { BuiltEdition } from '../archive/editions.js';
import { BodyError, formFields, readBody } from './body.js';
import { HONEYPOT } from '../signup/form.js';
import { confirmSignupPage, signupDonePage, signupLinkPage, subscribePage } from './signup-pages.js';
import { send, sendHtml } from './reply.js';
import type { LogEntry } from './index.js';


/** A sign-up form is a few fields: anything larger is not one of ours. */
const MAX_SIGNUP_BYTES = 4 * 1024;

/**
 * `GET|POST <base>/subscribe` and `GET|POST <base>/confirm`. Every request to subscribe gets the
 * same answer ("check your inbox"), whatever the address's standing, so the list cannot be probed;
 * only a request the ledger takes sends anything, and that only a confirmation. The GET of a
 * confirmation link changes nothing: mail scanners open links; only the button's POST confirms.
 */
export function signupRoutes(
  config: ResolvedConfig,
  service: SignupService,
  paths: { subscribe: string; confirm: string; confirmUrl: string },
  log: (entry: LogEntry) => void,
  /** The archive's newest issues, shown on the subscribe page. */
  latest: () => Promise<BuiltEdition[]> = async () => [],
) {
  const limiter = new PerMinute(config.signup.perIpPerMinute);
  const allowed = new Set(config.signup.allowedOrigins.map((origin) => new URL(origin).origin));

  function clientIp(request: IncomingMessage): string {
    const forwarded = config.signup.trustProxy ? String(request.headers['x-forwarded-for'] ?? '').split(',')[0]?.trim() : '';
    return forwarded || request.socket.remoteAddress || 'unknown';
  }

  function cors(request: IncomingMessage): Record<string, string> {
    const origin = request.headers.origin;
    return origin && allowed.has(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : { vary: 'Origin' };
  }

  async function subscribe(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method === 'GET' || request.method === 'HEAD') return sendHtml(response, request, 200, subscribePage(config, paths.subscribe, await recent()), { 'cache-control': 'no-store' });
    if (request.method === 'OPTIONS') {
      const headers = cors(request);
      if (!headers['access-control-allow-origin']) return send(response, request, 403, 'text/plain; charset=utf-8', 'This origin may not post here.\n', headers);
      return send(response, request, 204, 'text/plain; charset=utf-8', '', { ...headers, 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' });
    }
    if (request.method !== 'POST') return send(response, request, 405, 'text/plain; charset=utf-8', 'Method not allowed.\n', { allow: 'GET, HEAD, POST, OPTIONS' });

    const json = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
    const answer = (status: number, message: string, extra: Record<string, string> = {}) =>
      json
        ? send(response, request, status, 'application/json', `${JSON.stringify(status < 300 ? { status: 'ok', message } : { error: message })}\n`, { 'cache-control': 'no-store', ...cors(request), ...extra })
        : sendHtml(response, request, status, status < 300 ? signupDonePage(config) : subscribePage(config, paths.subscribe, [], message), extra);

    // Scripts may post JSON only from the origins the config lists; a form may come from any page.
    if (json && request.headers.origin && !allowed.has(request.headers.origin)) return answer(403, 'This origin may not post here.');
    const ip = clientIp(request);
    const wait = limiter.take(ip);
    if (wait) return answer(429, 'Too many requests: please try again in a minute.', { 'retry-after': String(wait) });

    let fields: Map<string, string>;
    try {
      const body = await readBody(request, MAX_SIGNUP_BYTES);
      fields = json ? jsonFields(body) : formFields(request.headers['content-type'], body);
    } catch (error) {
      if (error instanceof BodyError) return answer(error.status, error.message);
      throw error;
    }
    const checkYourInbox = 'Check your inbox: we have sent a link to confirm your subscription.';
    if (fields.get(HONEYPOT)) {
      log({ time: new Date().toISOString(), level: 'info', msg: 'signup', outcome: 'honeypot' });
      return answer(200, checkYourInbox);
    }
    const email = fields.get('email') ?? '';
    let outcome: Awaited<ReturnType<SignupLedger['request']>>;
    try {
      outcome = await service.ledger.request({
        email,
        name: fields.get('name') || null,
        source: request.headers.origin && request.headers.origin !== 'null' ? `form: ${request.headers.origin}` : 'form',
        consentVersion: config.signup.consentVersion,
        ip: config.signup.storeIp ? ip : null,
      });
    } catch (error) {
      if (isUserError(error) && error.code === 'invalid-address') return answer(400, 'That is not an email address we can send to: please check it.');
      throw error;
    }
    log({ time: new Date().toISOString(), level: 'info', msg: 'signup', outcome: outcome.kind === 'mail' ? 'requested' : outcome.why });
    if (outcome.kind === 'mail') {
      // Not awaited: the answer must not take longer for a new address than for a known one.
      const link = `${paths.confirmUrl}?token=${encodeURIComponent(outcome.token)}`;
      service.mailer.send(outcome.email, fields.get('name') || null, link).catch((error: unknown) =>
        log({ time: new Date().toISOString(), level: 'error', msg: 'confirmation not sent', error: (error as Error).message }),
      );
    }
    return answer(200, checkYourInbox);
  }

  async function confirm(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method === 'GET' || request.method === 'HEAD') {
      const token = url.searchParams.get('token') ?? '';
      const state = await service.ledger.inspect(token);
      if (state.kind === 'confirmed') return sendHtml(response, request, 200, confirmSignupPage(config, state.email, token));
      return linkPage(request, response, state.kind);
    }
    if (request.method !== 'POST') return send(response, request, 405, 'text/plain; charset=utf-8', 'Method not allowed.\n', { allow: 'GET, HEAD, POST' });
    let token = '';
    try {
      token = formFields(request.headers['content-type'], await readBody(request, MAX_SIGNUP_BYTES)).get('token') ?? '';
    } catch (error) {
      if (error instanceof BodyError) return sendHtml(response, request, error.status, signupLinkPage(config, 'invalid'));
      throw error;
    }
    const outcome = await service.ledger.confirm(token);
    log({ time: new Date().toISOString(), level: 'info', msg: 'signup', outcome: outcome.kind === 'confirmed' ? 'confirmed' : outcome.kind });
    if (outcome.kind === 'confirmed') {
      // The welcome issue, when one is configured; the thank-you page does not wait for it.
      service.mailer.welcome(outcome.email, outcome.name).catch((error: unknown) =>
        log({ time: new Date().toISOString(), level: 'error', msg: 'welcome not sent', error: (error as Error).message }),
      );
    }
    return linkPage(request, response, outcome.kind === 'confirmed' ? 'done' : outcome.kind);
  }

  /** The archive's three newest issues; a site that cannot be read shows none rather than failing the form. */
  async function recent(): Promise<BuiltEdition[]> {
    try {
      return (await latest()).slice(0, 3);
    } catch {
      return [];
    }
  }

  function linkPage(request: IncomingMessage, response: ServerResponse, kind: 'done' | 'already' | 'expired' | 'invalid') {
    // A used link (a replay, a second press) is refused like any other that cannot act, yet said kindly.
    const status = kind === 'done' ? 200 : kind === 'already' ? 409 : kind === 'expired' ? 410 : 400;
    sendHtml(response, request, status, signupLinkPage(config, kind));
  }

  return { subscribe, confirm };
}

function jsonFields(body: Buffer): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BodyError(400, 'The body is not JSON.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BodyError(400, 'Send {"email": "…", "name": "…"}.');
  const fields = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed)) if (typeof value === 'string') fields.set(name, value.trim());
  return fields;
}

/** Requests a minute per client, in fixed one-minute windows; says how many seconds to wait when over. */
class PerMinute {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly limit: number) {}

  take(client: string, now = Date.now()): number | undefined {
    if (this.windows.size > 10_000) for (const [key, window] of this.windows) if (now - window.start >= 60_000) this.windows.delete(key);
    const window = this.windows.get(client);
    if (!window || now - window.start >= 60_000) {
      this.windows.set(client, { start: now, count: 1 });
      return undefined;
    }
    if (++window.count <= this.limit) return undefined;
    return Math.max(1, Math.ceil((window.start + 60_000 - now) / 1000));
  }
}

