import type { IncomingMessage, ServerResponse } from 'node:http';
import { openUnsubscribe, type UnsubscribeClaim } from '../delivery/unsubscribe.js';
import { BodyError, formFields, readBody } from './body.js';
import { confirmPage, donePage, invalidLinkPage, plainPage } from './pages.js';
import { send, sendHtml, type Reply } from './reply.js';

/** How each way of unsubscribing is recorded in the subscriber's withdrawnHow. */
export const HOW = { oneClick: 'one-click', page: 'page' } as const;

/**
 * `/unsubscribe/<token>`:
 * - POST with `List-Unsubscribe=One-Click` (RFC 8058): unsubscribes at once, 200, never a redirect;
 * - GET: the confirm page, which changes nothing (mail scanners follow links);
 * - POST from that page's button (`confirm=unsubscribe`): unsubscribes, and says so.
 * A token that does not open (forged, altered, truncated) gets 400 and changes nothing; the GCM tag
 * check that decides it is constant-time. Repeating any of these is harmless.
 */
export async function handleUnsubscribe(reply: Reply, request: IncomingMessage, response: ServerResponse, token: string): Promise<void> {
  const { config, log } = reply;
  const headers = { 'cache-control': 'no-store' };
  if (token.includes('/')) return sendHtml(response, request, 404, plainPage(config, 'Not found', 'There is no page at this address.'));
  if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'POST') {
    return send(response, request, 405, 'text/plain; charset=utf-8', 'Method not allowed.\n', { allow: 'GET, HEAD, POST', ...headers });
  }
  const claim = openUnsubscribe(token, reply.key);
  if (!claim) {
    log({ time: new Date().toISOString(), level: 'warn', msg: 'unsubscribe refused', reason: 'invalid token', method: request.method });
    return sendHtml(response, request, 400, invalidLinkPage(config));
  }

  if (request.method !== 'POST') {
    const state = await standing(reply, claim);
    return sendHtml(response, request, 200, confirmPage(config, claim.email, state === 'withdrawn' || state === 'erased'));
  }

  let how: string;
  try {
    const fields = formFields(request.headers['content-type'], await readBody(request));
    if (fields.get('List-Unsubscribe')?.toLowerCase() === 'one-click') how = HOW.oneClick;
    else if (fields.get('confirm') === 'unsubscribe') how = HOW.page;
    else return send(response, request, 400, 'text/plain; charset=utf-8', 'This request does not ask to unsubscribe (List-Unsubscribe=One-Click is missing); nothing changed.\n', headers);
  } catch (error) {
    if (!(error instanceof BodyError)) throw error;
    return send(response, request, error.status, 'text/plain; charset=utf-8', `${error.message} Nothing changed.\n`, headers);
  }

  const changed = await reply.unsubscribe(claim.email, how, claim.issue);
  log({ time: new Date().toISOString(), level: 'info', msg: 'unsubscribe', how, issue: claim.issue, changed });
  if (how === HOW.oneClick) return send(response, request, 200, 'text/plain; charset=utf-8', 'Unsubscribed.\n', headers);
  return sendHtml(response, request, 200, donePage(config, claim.email));
}

/**
 * Where the address stands: on the list and subscribed, withdrawn in any way, or erased at its
 * owner's request (only a hash is kept, and sends already skip it).
 */
async function standing(reply: Reply, claim: UnsubscribeClaim): Promise<'subscribed' | 'withdrawn' | 'erased' | 'absent'> {
  const subscriber = await reply.store.get(claim.email);
  if (subscriber) return subscriber.status === 'subscribed' ? 'subscribed' : 'withdrawn';
  return (await reply.store.isErased(claim.email)) ? 'erased' : 'absent';
}

