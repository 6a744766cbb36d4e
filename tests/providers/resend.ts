import { createHash, randomUUID } from 'node:crypto';
import { header, jsonBody, startProvider, type Incoming, type ProviderServer, type Reply } from './server.js';

/** A message Resend took, as its fields came. */
export interface ResendMessage {
  from: string;
  to: string[];
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  idempotencyKey: string | undefined;
  id: string;
}

/**
 * Resend's API as documented (https://resend.com/docs/api-reference/emails/send-email,
 * …/errors, …/dashboard/emails/idempotency-keys): POST /emails with `Authorization: Bearer KEY`
 * and a JSON body, answered 200 `{ id }`; errors as `{ statusCode, name, message }`. An unknown
 * key is a 401 validation_error on the sending endpoints and a 400 elsewhere; a key restricted
 * to sending gets a 401 restricted_api_key from GET /domains. A repeat of an Idempotency-Key
 * within 24 hours gets the first answer and sends nothing; the same key with another body gets
 * a 409 invalid_idempotent_request.
 */
export async function startResend(key: string, options: { sendingOnly?: boolean } = {}): Promise<ProviderServer & { accepted: ResendMessage[] }> {
  const accepted: ResendMessage[] = [];
  const seen = new Map<string, { digest: string; reply: Reply }>();
  const server = await startProvider({
    authorized: (request) => header(request, 'authorization') === `Bearer ${key}`,
    unauthorized: (request) => resendError(request.path === '/emails' ? 401 : 400, 'validation_error', 'API key is invalid'),
    sends: (request) => request.method === 'POST' && request.path === '/emails',
    handle(request) {
      if (request.method === 'GET' && request.path === '/domains') {
        if (options.sendingOnly) return resendError(401, 'restricted_api_key', 'This API key is restricted to only send emails');
        return { status: 200, body: { object: 'list', data: [{ id: randomUUID(), name: 'gazette.example', status: 'verified' }] } };
      }
      if (request.method !== 'POST' || request.path !== '/emails') return resendError(404, 'not_found', 'The requested endpoint does not exist.');
      const idempotencyKey = header(request, 'idempotency-key');
      if (idempotencyKey !== undefined && (idempotencyKey.length < 1 || idempotencyKey.length > 256)) {
        return resendError(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.');
      }
      const digest = createHash('sha256').update(request.body).digest('hex');
      const earlier = idempotencyKey === undefined ? undefined : seen.get(idempotencyKey);
      if (earlier) return earlier.digest === digest ? earlier.reply : resendError(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.');
      const reply = send(request, idempotencyKey, accepted);
      if (idempotencyKey !== undefined && reply.status === 200) seen.set(idempotencyKey, { digest, reply });
      return reply;
    },
  });
  return Object.assign(server, { accepted });
}

function send(request: Incoming, idempotencyKey: string | undefined, accepted: ResendMessage[]): Reply {
  if (!/^application\/json/.test(header(request, 'content-type') ?? '')) return resendError(400, 'validation_error', 'Invalid JSON body');
  const body = jsonBody(request) as Record<string, any> | undefined;
  if (!body) return resendError(400, 'validation_error', 'Invalid JSON body');
  for (const field of ['from', 'to', 'subject']) {
    if (body[field] === undefined) return resendError(422, 'missing_required_field', `Missing \`${field}\` field.`);
  }
  if (typeof body.from !== 'string' || !/@/.test(body.from)) return resendError(422, 'invalid_from_address', 'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.');
  const to = Array.isArray(body.to) ? body.to : [body.to];
  if (!to.length || to.length > 50 || !to.every((address: unknown) => typeof address === 'string' && /@[^@\s]+\.[^@\s]+>?$/.test(address))) {
    return resendError(400, 'validation_error', 'Invalid `to` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.');
  }
  if (typeof body.html !== 'string' && typeof body.text !== 'string') return resendError(422, 'missing_required_field', 'Missing `html` or `text` field.');
  const headers = body.headers ?? {};
  if (typeof headers !== 'object' || Object.values(headers).some((value) => typeof value !== 'string')) {
    return resendError(422, 'validation_error', 'Invalid `headers` field.');
  }
  const id = randomUUID();
  accepted.push({ from: body.from, to, subject: body.subject, html: body.html ?? '', text: body.text ?? '', headers, idempotencyKey, id });
  return { status: 200, body: { id } };
}

export function resendError(status: number, name: string, message: string): Reply {
  return { status, body: { statusCode: status, name, message } };
}
