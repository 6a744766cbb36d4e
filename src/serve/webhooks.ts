import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebhookDispatcher } from '../bounces/webhooks/index.js';
import { BodyError, readBody } from './body.js';
import type { LogEntry } from './index.js';
import { send } from './reply.js';

/** Where the webhooks are, whatever baseUrl says: providers are given the URL once, by hand. */
export const WEBHOOK_PREFIX = '/webhooks/';

/**
 * A provider's batch is a few hundred events at most (SendGrid posts at 768 KB); an SNS message is
 * at most 256 KB. Postmark's "include bounce content" can carry a whole returned message: leave it off.
 */
const MAX_WEBHOOK_BYTES = 1024 * 1024;

/**
 * `POST /webhooks/<provider>`: a provider's events, verified by its handler and applied by the
 * dispatcher; one log line per event, with the reader's domain only. A provider whose webhook is
 * not configured gets the same 404 as any unknown path. Answers: 200 when taken (whatever the events
 * did, so the provider stops retrying), 401/403 for requests that are not the provider's, 400, 405,
 * 413, 415 for ones that are not webhooks, 500 when digest failed (the provider retries).
 */
export function webhookRoute(dispatcher: WebhookDispatcher, log: (entry: LogEntry) => void, notFound: (request: IncomingMessage, response: ServerResponse) => void) {
  const json = (response: ServerResponse, request: IncomingMessage, status: number, body: unknown, headers: Record<string, string> = {}) =>
    send(response, request, status, 'application/json', `${JSON.stringify(body)}\n`, { 'cache-control': 'no-store', ...headers });

  return async function webhook(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const provider = path.slice(WEBHOOK_PREFIX.length).replace(/\/$/, '');
    const handler = dispatcher.handler(provider);
    if (!handler) return notFound(request, response);
    if (request.method !== 'POST') return json(response, request, 405, { error: 'Webhooks are POSTed.' }, { allow: 'POST' });
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!handler.accepts.includes(type)) return json(response, request, 415, { error: `Send ${handler.accepts.join(' or ')}.` });
    let body: Buffer;
    try {
      body = await readBody(request, MAX_WEBHOOK_BYTES);
    } catch (error) {
      if (error instanceof BodyError) return json(response, request, error.status, { error: error.message });
      throw error;
    }
    const delivery = await dispatcher.receive(handler, { headers: request.headers, body });
    const time = () => new Date().toISOString();
    if ('refused' in delivery) {
      log({ time: time(), level: 'warn', msg: 'webhook refused', provider, status: delivery.refused.status, reason: delivery.refused.reason });
      // The reason stays in the log: whoever sent a forgery learns nothing from the answer.
      const message = delivery.refused.status === 400 ? delivery.refused.reason : 'Not accepted.';
      return json(response, request, delivery.refused.status, { error: message });
    }
    if (delivery.note) log({ time: time(), level: 'info', msg: 'webhook', provider, note: delivery.note });
    for (const outcome of delivery.outcomes) log({ time: time(), level: outcome.kind === 'sender' ? 'warn' : 'info', msg: 'webhook', ...outcome });
    return json(response, request, 200, { status: 'ok', events: delivery.outcomes.length });
  };
}
