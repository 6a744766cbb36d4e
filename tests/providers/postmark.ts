import { randomUUID } from 'node:crypto';
import { header, jsonBody, startProvider, type Incoming, type ProviderServer, type Reply } from './server.js';

/** A message Postmark took, as its fields came. */
export interface PostmarkMessage {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  stream: string;
  messageId: string;
}

/**
 * Postmark's Email API as documented (https://postmarkapp.com/developer/user-guide/send-email-with-api,
 * https://postmarkapp.com/developer/api/overview): POST /email with X-Postmark-Server-Token and a
 * JSON body, answered 200 with MessageID; a bad token is a 401 with ErrorCode 10; a body that is
 * not what Postmark takes is a 422 with an ErrorCode. GET /server answers the server's settings.
 */
export async function startPostmark(token = 'pm-server-token'): Promise<ProviderServer & { accepted: PostmarkMessage[] }> {
  const accepted: PostmarkMessage[] = [];
  const server = await startProvider({
    authorized: (request) => header(request, 'x-postmark-server-token') === token,
    unauthorized: () => ({ status: 401, body: { ErrorCode: 10, Message: 'The Server Token you provided in the X-Postmark-Server-Token request header was invalid.' } }),
    sends: (request) => request.method === 'POST' && request.path === '/email',
    handle(request) {
      if (request.method === 'GET' && request.path === '/server') return { status: 200, body: { ID: 1, Name: 'Test Gazette', DeliveryType: 'Live' } };
      if (request.method !== 'POST' || request.path !== '/email') return { status: 404, body: { ErrorCode: 0, Message: 'Not found' } };
      return email(request, accepted);
    },
  });
  return Object.assign(server, { accepted });
}

function email(request: Incoming, accepted: PostmarkMessage[]): Reply {
  if (!/^application\/json/.test(header(request, 'content-type') ?? '')) return postmarkError(409, 'JSON request required. Please set the Content-Type header to application/json.');
  if (!/application\/json/.test(header(request, 'accept') ?? '')) return postmarkError(409, 'The Accept header must accept application/json.');
  const body = jsonBody(request) as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') return postmarkError(402, 'Received invalid JSON input.');
  const { From, To, Subject, HtmlBody, TextBody, Headers, MessageStream } = body as Record<string, unknown>;
  if (typeof From !== 'string' || !From) return postmarkError(300, "Invalid 'From' address: ''.");
  if (typeof To !== 'string' || !/@/.test(To)) return postmarkError(300, `Error parsing 'To': Illegal email address '${String(To)}'. It must contain the '@' symbol.`);
  if (typeof HtmlBody !== 'string' && typeof TextBody !== 'string') return postmarkError(300, 'Provide either email TextBody or HtmlBody or both.');
  if (Headers !== undefined && !(Array.isArray(Headers) && Headers.every((h) => typeof h?.Name === 'string' && typeof h?.Value === 'string'))) {
    return postmarkError(403, 'Headers must be a list of {Name, Value}.');
  }
  const messageId = randomUUID();
  accepted.push({
    from: From,
    to: To,
    subject: String(Subject ?? ''),
    html: String(HtmlBody ?? ''),
    text: String(TextBody ?? ''),
    headers: Object.fromEntries(((Headers ?? []) as { Name: string; Value: string }[]).map((h) => [h.Name, h.Value])),
    stream: typeof MessageStream === 'string' ? MessageStream : 'outbound',
    messageId,
  });
  return { status: 200, body: { To, SubmittedAt: new Date().toISOString(), MessageID: messageId, ErrorCode: 0, Message: 'OK' } };
}

/** A 422 with Postmark's ErrorCode and Message. */
export function postmarkError(code: number, message: string): Reply {
  return { status: 422, body: { ErrorCode: code, Message: message } };
}

/** Postmark's answer for a recipient on its inactive list (ErrorCode 406). */
export function inactiveRecipient(address: string): Reply {
  return postmarkError(
    406,
    `You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: ${address}. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.`,
  );
}
