import { randomBytes } from 'node:crypto';
import { header, jsonBody, startProvider, type Incoming, type ProviderServer, type Reply } from './server.js';

/** A message SendGrid took, as its fields came. */
export interface SendgridMessage {
  to: { email: string; name?: string }[];
  from: { email: string; name?: string };
  subject: string;
  content: { type: string; value: string }[];
  headers: Record<string, string>;
  trackingSettings: unknown;
  id: string;
}

/** Headers SendGrid will not take in `headers` (v3 Mail Send, `headers`). */
const RESERVED = ['x-sg-id', 'x-sg-eid', 'received', 'dkim-signature', 'content-type', 'content-transfer-encoding', 'to', 'from', 'subject', 'reply-to', 'cc', 'bcc'];

/**
 * SendGrid's v3 Mail Send as documented (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send,
 * …/mail-send/errors): POST /v3/mail/send with `Authorization: Bearer KEY` and a JSON body,
 * answered 202 with no body and an X-Message-Id header; errors as `{ errors: [{ message, field,
 * help }] }`, a bad key a 401. GET /v3/scopes lists the key's scopes.
 */
export async function startSendgrid(key: string, scopes = ['mail.send', 'scopes.read']): Promise<ProviderServer & { accepted: SendgridMessage[] }> {
  const accepted: SendgridMessage[] = [];
  const server = await startProvider({
    authorized: (request) => header(request, 'authorization') === `Bearer ${key}`,
    unauthorized: () => sendgridError(401, 'The provided authorization grant is invalid, expired, or revoked', null),
    sends: (request) => request.method === 'POST' && request.path === '/v3/mail/send',
    handle(request) {
      if (request.method === 'GET' && request.path === '/v3/scopes') return { status: 200, body: { scopes } };
      if (request.method !== 'POST' || request.path !== '/v3/mail/send') return sendgridError(404, 'Not found', null);
      return mailSend(request, accepted);
    },
  });
  return Object.assign(server, { accepted });
}

function mailSend(request: Incoming, accepted: SendgridMessage[]): Reply {
  if (!/^application\/json/.test(header(request, 'content-type') ?? '')) return { status: 415, body: { errors: [{ message: 'Content-Type should be application/json.', field: null }] } };
  const body = jsonBody(request) as Record<string, any> | undefined;
  if (!body) return sendgridError(400, 'Bad Request', null);
  const personalization = body.personalizations?.[0];
  if (!Array.isArray(body.personalizations) || body.personalizations.length !== 1 || !Array.isArray(personalization?.to)) {
    return sendgridError(400, 'You must have at least one personalization.', 'personalizations');
  }
  for (const [i, to] of (personalization.to as { email?: string }[]).entries()) {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(to.email ?? '')) return sendgridError(400, 'Does not contain a valid address.', `personalizations.0.to.${i}.email`);
  }
  if (!/^[^@\s]+@[^@\s]+$/.test(body.from?.email ?? '')) return sendgridError(400, 'The from object must be provided for every email send.', 'from');
  if (typeof body.subject !== 'string' || !body.subject) return sendgridError(400, 'The subject is required.', 'subject');
  const content = body.content as { type?: string; value?: string }[] | undefined;
  if (!Array.isArray(content) || !content.length || content.some((c) => !c.type || !c.value)) {
    return sendgridError(400, 'The content value must be a string at least one character in length.', 'content.0.value');
  }
  if (content.length > 1 && content[0]!.type !== 'text/plain') {
    return sendgridError(400, 'If present, text/plain and text/x-amp-html must be first, followed by text/html, followed by any other content.', 'content.0.type');
  }
  const headers = (body.headers ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(headers)) {
    if (RESERVED.includes(name.toLowerCase())) return sendgridError(400, `The header ${name} is reserved and cannot be set.`, `headers`);
    if (typeof value !== 'string') return sendgridError(400, 'Invalid type. Expected: string', `headers.${name}`);
  }
  const id = randomBytes(11).toString('base64url');
  accepted.push({
    to: personalization.to,
    from: body.from,
    subject: body.subject,
    content: content as { type: string; value: string }[],
    headers: headers as Record<string, string>,
    trackingSettings: body.tracking_settings,
    id,
  });
  return { status: 202, headers: { 'x-message-id': id } };
}

export function sendgridError(status: number, message: string, field: string | null): Reply {
  return { status, body: { errors: [{ message, field, help: null }] } };
}
