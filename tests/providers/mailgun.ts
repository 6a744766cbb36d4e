import { randomBytes } from 'node:crypto';
import { simpleParser, type ParsedMail } from 'mailparser';
import { header, startProvider, type Incoming, type ProviderServer, type Reply } from './server.js';

/** A MIME message Mailgun took: its recipients, the bytes, and the bytes parsed. */
export interface MailgunMessage {
  to: string[];
  raw: Buffer;
  parsed: ParsedMail;
  id: string;
}

/**
 * Mailgun's API as documented (https://documentation.mailgun.com/docs/mailgun/api-reference/send/mailgun/messages,
 * …/quickstart-guide/responses): POST /v3/{domain}/messages.mime, basic auth `api:KEY`, a
 * multipart/form-data body with `to` and the message as the file `message`; 200 with
 * `{ id, message: "Queued. Thank you." }`; a bad key is a 401 with the bare word Forbidden; an
 * unknown domain a 404. GET /v3/domains/{domain} answers the domain and its state.
 */
export async function startMailgun(domain: string, key: string, state = 'active'): Promise<ProviderServer & { accepted: MailgunMessage[] }> {
  const accepted: MailgunMessage[] = [];
  const expected = `Basic ${Buffer.from(`api:${key}`).toString('base64')}`;
  const server = await startProvider({
    authorized: (request) => header(request, 'authorization') === expected,
    unauthorized: () => ({ status: 401, body: 'Forbidden' }),
    sends: (request) => request.method === 'POST' && /^\/v3\/[^/]+\/messages\.mime$/.test(request.path),
    async handle(request) {
      const domainInfo = /^\/v3\/domains\/([^/]+)$/.exec(request.path);
      if (request.method === 'GET' && domainInfo) {
        if (decodeURIComponent(domainInfo[1]!) !== domain) return { status: 404, body: { message: 'Domain not found' } };
        return { status: 200, body: { domain: { name: domain, state, is_disabled: state === 'disabled' }, receiving_dns_records: [], sending_dns_records: [] } };
      }
      const send = /^\/v3\/([^/]+)\/messages\.mime$/.exec(request.path);
      if (request.method !== 'POST' || !send) return { status: 404, body: { message: 'Not Found' } };
      if (decodeURIComponent(send[1]!) !== domain) return { status: 404, body: { message: `Domain not found: ${decodeURIComponent(send[1]!)}` } };
      return messagesMime(request, domain, accepted);
    },
  });
  return Object.assign(server, { accepted });
}

async function messagesMime(request: Incoming, domain: string, accepted: MailgunMessage[]): Promise<Reply> {
  const type = header(request, 'content-type') ?? '';
  if (!/^multipart\/form-data;\s*boundary=/.test(type)) return mailgunError(400, 'message parameter is missing');
  // The platform's own multipart reader (fetch's Request), not one of ours.
  const form = await new Request('http://mailgun.invalid/', { method: 'POST', headers: { 'content-type': type }, body: request.body }).formData();
  const to = form.getAll('to').map(String);
  const message = form.get('message');
  if (!to.length) return mailgunError(400, "'to' parameter is missing");
  if (!to.every((address) => /^[^@\s]+@[^@\s]+$/.test(address))) return mailgunError(400, "'to' parameter is not a valid address. please check documentation");
  if (!(message instanceof Blob)) return mailgunError(400, "'message' parameter is not a file");
  const raw = Buffer.from(await message.arrayBuffer());
  const id = `<${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}.${randomBytes(8).toString('hex')}@${domain}>`;
  accepted.push({ to, raw, parsed: await simpleParser(raw), id });
  return { status: 200, body: { id, message: 'Queued. Thank you.' } };
}

export function mailgunError(status: number, message: string): Reply {
  return { status, body: { message } };
}

/** A header of the raw message, unfolded (RFC 5322 §2.2.3), as it was written. */
export function rawHeader(parsed: ParsedMail, name: string): string | undefined {
  const line = parsed.headerLines.find((h) => h.key === name.toLowerCase())?.line;
  return line?.slice(line.indexOf(':') + 1).replace(/\r?\n(?=[ \t])/g, '').trim();
}
