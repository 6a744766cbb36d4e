import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UserError } from '../errors.js';
import { plainPage } from './pages.js';
import { send, sendHtml, type Reply } from './reply.js';

/** Shorter than this, a token could be guessed: the report names issues and counts readers. */
const MIN_TOKEN = 24;
/** A report is kept this long: an editor refreshing the page does not query the list each time. */
const FRESH_MS = 60_000;

/** DIGEST_REPORT_TOKEN, checked: unset means the report is not served at all. */
export function reportToken(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length < MIN_TOKEN) {
    throw new UserError(`DIGEST_REPORT_TOKEN must be at least ${MIN_TOKEN} characters (a random string: it guards the report)`, { code: 'weak-report-token' });
  }
  return value;
}

/**
 * `<archive>/report` (and `?issue=<slug>`): the report page for whoever holds the token, given as
 * HTTP Basic's password (a browser asks for it; any user name) or as a Bearer token. Never cached
 * on the way, never indexed; a wrong token gets 401 and is logged without what was tried.
 */
export function reportRoute(reply: Reply, token: string) {
  const expected = digest(token);
  const cache = new Map<string, { at: number; html: Promise<string> }>();

  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const headers = { 'cache-control': 'no-store, private' };
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, request, 405, 'text/plain; charset=utf-8', 'Method not allowed.\n', { allow: 'GET, HEAD', ...headers });
    const given = presented(request.headers.authorization);
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      reply.log({ time: new Date().toISOString(), level: 'warn', msg: 'report refused', reason: given === undefined ? 'no token' : 'wrong token' });
      return sendHtml(response, request, 401, plainPage(reply.config, 'Sign in to see the report', 'This report is for the newsletter’s editors: give the report token as the password.'), {
        'www-authenticate': 'Basic realm="digest report", charset="UTF-8"',
        ...headers,
      });
    }
    const issue = new URL(request.url ?? '/', 'http://localhost').searchParams.get('issue') ?? undefined;
    const key = issue ?? '';
    let entry = cache.get(key);
    if (!entry || Date.now() - entry.at > FRESH_MS) {
      const { buildReport } = await import('../report/index.js');
      entry = { at: Date.now(), html: buildReport(reply.store.dialect, { newsletter: reply.config.name, issue }).then((report) => report.html) };
      entry.html.catch(() => cache.delete(key));
      cache.set(key, entry);
    }
    let html: string;
    try {
      html = await entry.html;
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return sendHtml(response, request, 404, plainPage(reply.config, 'No such report', error.message), headers);
    }
    sendHtml(response, request, 200, html, headers);
  };
}

/** The token from `Basic base64(user:token)` or `Bearer token`. */
function presented(authorization: string | undefined): string | undefined {
  const text = authorization ?? '';
  const space = text.indexOf(' ');
  const scheme = space === -1 ? text : text.slice(0, space);
  const value = space === -1 ? '' : text.slice(space + 1).trim();
  if (!value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() !== 'basic') return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(colon + 1);
}

/** Compared as digests, so that the comparison takes the same time whatever the lengths. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
