import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedConfig } from '../config.js';
import type { ClickCounter } from '../tracking/counter.js';
import { openClick, openReader, type ClickKey, type ReaderKey } from '../tracking/token.js';
import type { LogEntry } from './index.js';
import { plainPage } from './pages.js';
import { send, sendHtml } from './reply.js';

export interface ClickKeys {
  link: ClickKey;
  reader: ReaderKey;
}

export interface ClickRoute {
  config: ResolvedConfig;
  keys: ClickKeys;
  counter: ClickCounter;
  log: (entry: LogEntry) => void;
}

/** Where the redirect goes is no one else's business: not the target's (Referer), nor a cache's. */
const headers = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'x-robots-tag': 'noindex' };

/**
 * `<archive>/c/<link token>[/<reader token>]`: a 302 to the URL sealed in the link token, at once;
 * the click is counted afterwards, in memory, and written by the counter's next batch. Served
 * whether or not tracking.clicks is on, so that the links of issues sent while it was keep working
 * after it is turned off; counted only while it is on, per reader only with tracking.perReader and a
 * reader token that opens, for the same issue. A link token that does not open (forged, altered,
 * sealed for another purpose, or holding anything but an http(s) URL) gets 400 and counts nothing.
 * HEAD is answered the same and counts nothing: no one clicks with HEAD.
 */
export function handleClick(route: ClickRoute, request: IncomingMessage, response: ServerResponse, rest: string): void {
  const { config, keys, log } = route;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return send(response, request, 405, 'text/plain; charset=utf-8', 'Method not allowed.\n', { allow: 'GET, HEAD', ...headers });
  }
  const [linkToken, readerToken, extra] = rest.split('/');
  const claim = extra === undefined && linkToken ? openClick(linkToken, keys.link) : undefined;
  if (!claim) {
    log({ time: new Date().toISOString(), level: 'warn', msg: 'click refused', reason: 'invalid token', method: request.method });
    return sendHtml(response, request, 400, plainPage(config, 'This link is not valid', 'The link may have been cut short or changed on its way here. Open it again from the email, or copy the whole address.'), headers);
  }
  send(response, request, 302, 'text/plain; charset=utf-8', '', { ...headers, location: claim.location });
  if (request.method !== 'GET' || !config.tracking.clicks) return;
  const reader = config.tracking.perReader && readerToken ? openReader(readerToken, keys.reader) : undefined;
  route.counter.count(claim.issue, claim.url, reader?.issue === claim.issue ? reader.emailKey : undefined);
}
