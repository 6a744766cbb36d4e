import type { IncomingMessage } from 'node:http';

/** One-click bodies are a few dozen bytes; anything near this is not a form of ours. */
export const MAX_BODY_BYTES = 16 * 1024;

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

export async function readBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) throw new BodyError(413, 'The request body is too large.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyError(413, 'The request body is too large.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The fields of a form body: `application/x-www-form-urlencoded` or `multipart/form-data`, the two
 * encodings RFC 8058 allows for `List-Unsubscribe=One-Click`. A body without a content type is read
 * as urlencoded, since some senders of the one-click POST omit it.
 */
export function formFields(contentType: string | undefined, body: Buffer): Map<string, string> {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'multipart/form-data') {
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
    if (!boundary) throw new BodyError(400, 'The multipart body has no boundary.');
    return multipartFields(body, boundary[1] ?? boundary[2]!);
  }
  if (type === '' || type === 'application/x-www-form-urlencoded' || type === 'text/plain') {
    const fields = new Map<string, string>();
    for (const [name, value] of new URLSearchParams(body.toString('utf8'))) if (!fields.has(name)) fields.set(name, value.trim());
    return fields;
  }
  throw new BodyError(415, 'Send the form as application/x-www-form-urlencoded or multipart/form-data.');
}

/** The text fields of a multipart/form-data body (RFC 7578); file parts are ignored. */
function multipartFields(body: Buffer, boundary: string): Map<string, string> {
  const fields = new Map<string, string>();
  const text = body.toString('latin1');
  const parts = text.split(`--${boundary}`);
  // parts[0] is the preamble; the last is `--` and the epilogue.
  for (const part of parts.slice(1)) {
    if (part.startsWith('--')) break;
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const headers = part.slice(0, headerEnd);
    const disposition = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(headers);
    if (!disposition) continue;
    const name = /(?:^|;)\s*name="([^"]*)"/i.exec(disposition[1]!);
    if (!name || /(?:^|;)\s*filename=/i.test(disposition[1]!)) continue;
    let value = part.slice(headerEnd + 4);
    if (value.endsWith('\r\n')) value = value.slice(0, -2);
    if (!fields.has(name[1]!)) fields.set(name[1]!, Buffer.from(value, 'latin1').toString('utf8').trim());
  }
  return fields;
}
