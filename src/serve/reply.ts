import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SubscriberStore } from '../audience/store.js';
import type { ResolvedConfig } from '../config.js';
import type { UnsubscribeKey } from '../delivery/unsubscribe.js';
import type { LogEntry } from './index.js';

/** What a route handler needs. */
export interface Reply {
  config: ResolvedConfig;
  store: SubscriberStore;
  key: UnsubscribeKey;
  log: (entry: LogEntry) => void;
  /** Records an unsubscribe (batched with others in flight), and for the report which issue's link it came by; whether anything changed. */
  unsubscribe: (email: string, how: string, issue?: string) => Promise<boolean>;
}

const common = { 'x-content-type-options': 'nosniff' };

/** The unsubscribe pages load nothing, post only to themselves, and send no Referer (their URL is a key). */
export const pageSecurity = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex',
};

export function send(
  response: ServerResponse,
  request: IncomingMessage,
  status: number,
  type: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  for (const [name, value] of Object.entries({ ...common, 'content-type': type, ...headers })) response.setHeader(name, value);
  response.setHeader('content-length', bytes.length);
  response.writeHead(status);
  response.end(request.method === 'HEAD' ? undefined : bytes);
}

export function sendHtml(response: ServerResponse, request: IncomingMessage, status: number, html: string, headers: Record<string, string> = {}): void {
  send(response, request, status, 'text/html; charset=utf-8', html, { ...pageSecurity, 'cache-control': 'no-store', ...headers });
}
