import { createHash, randomBytes } from 'node:crypto';
import addressparser from 'nodemailer/lib/addressparser';
import * as mimeFuncs from 'nodemailer/lib/mime-funcs';
import * as qp from 'nodemailer/lib/qp';
import { UserError } from '../errors.js';
import type { Edition } from '../render/index.js';
import { compileMerge, compileSplice, type Merge, type Reader } from '../render/merge.js';
import { sealUnsubscribe, unsubscribeUrl, type UnsubscribeKey } from './unsubscribe.js';

/** A reader as the journal holds them. */
export interface Recipient {
  email: string;
  name: string | null;
  attributes: Record<string, unknown>;
}

export interface MessageSettings {
  /** `"The Valley Ledger" <briefing@valleyledger.example>` */
  from: string;
  newsletter: string;
  /** The https base of the unsubscribe endpoint; each reader's token follows it. */
  unsubscribeBase: string;
  unsubscribeMailto?: string;
  key: UnsubscribeKey;
  test?: boolean;
}

export interface OutgoingMessage {
  raw: Buffer;
  messageId: string;
  envelope: { from: string; to: string[] };
}

/**
 * Builds each reader's message by splicing: everything the readers share (the From and List-Id
 * headers, the MIME structure, the compiled merges of the HTML and text) is prepared once per
 * issue; per reader only the merge runs, then the parts are encoded (base64 for the HTML, which
 * Buffer does natively; quoted-printable for the text, which stays readable) and joined.
 */
export class MessageFactory {
  private readonly html: (reader: Reader) => Buffer;
  private readonly text: (reader: Reader) => Buffer;
  private readonly subject: Merge;
  private readonly fixedHeaders: string;
  private readonly boundary = `digest-${randomBytes(12).toString('hex')}`;
  private readonly sender: { name: string; address: string };
  private readonly domain: string;

  constructor(
    private readonly edition: Edition,
    private readonly settings: MessageSettings,
  ) {
    const [sender] = addressparser(settings.from, { flatten: true }) as { name: string; address: string }[];
    if (!sender?.address || !/^[^@\s]+@[^@\s]+$/.test(sender.address)) {
      throw new UserError(`the sender "${settings.from}" is not an email address: set from: in the config or DIGEST_FROM`, { code: 'invalid-from' });
    }
    this.sender = sender;
    this.domain = sender.address.split('@')[1]!.toLowerCase();
    this.html = compileSplice(edition.html);
    this.text = compileSplice(edition.text.replace(/\r?\n/g, '\r\n'), 'text');
    this.subject = compileMerge(edition.subject, 'text');
    this.fixedHeaders = [
      header('From', mailbox(this.sender.name, this.sender.address)),
      header('List-Id', `${phrase(settings.newsletter)} <${slugify(settings.newsletter)}.${this.domain}>`),
      'MIME-Version: 1.0',
      `Content-Type: multipart/alternative; boundary="${this.boundary}"`,
      ...(settings.test ? ['X-Digest-Test: yes'] : []),
    ].join('\r\n');
  }

  get senderAddress(): string {
    return this.sender.address;
  }

  /** Stable for a reader and an issue, so a retried message is recognisable as the same one. */
  messageId(key: string): string {
    const hash = createHash('sha256').update(`${this.edition.meta.slug}\0${key}`).digest('hex').slice(0, 32);
    return `<${hash}.${this.edition.meta.slug}@${this.domain}>`;
  }

  build(recipient: Recipient, key: string, now = new Date()): OutgoingMessage {
    const token = sealUnsubscribe({ email: recipient.email, issue: this.edition.meta.slug }, this.settings.key);
    const unsubscribe = unsubscribeUrl(this.settings.unsubscribeBase, token);
    const reader: Reader = {
      subscriber: {
        email: recipient.email,
        name: recipient.name ?? undefined,
        first_name: recipient.name?.trim().split(/\s+/)[0] || undefined,
        attributes: recipient.attributes,
      },
      unsubscribe_url: unsubscribe,
    };
    const subject = `${this.settings.test ? '[TEST] ' : ''}${this.subject(reader)}`;
    const messageId = this.messageId(key);
    const listUnsubscribe = [`<${unsubscribe}>`, ...(this.settings.unsubscribeMailto ? [`<mailto:${this.settings.unsubscribeMailto}?subject=unsubscribe>`] : [])];

    const head = [
      this.fixedHeaders,
      header('To', mailbox(recipient.name ?? '', recipient.email)),
      header('Subject', mimeFuncs.encodeWords(oneLine(subject), 'Q', 52)),
      `Date: ${now.toUTCString().replace(/GMT$/, '+0000')}`,
      `Message-ID: ${messageId}`,
      header('List-Unsubscribe', listUnsubscribe.join(', ')),
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    ].join('\r\n');

    // Quoted-printable keeps the text part readable in the source; base64 is native and fast for the HTML.
    const text = qp.wrap(qp.encode(this.text(reader)), 76);
    const html = base64Lines(this.html(reader));
    const raw = Buffer.concat([
      Buffer.from(`${head}\r\n\r\n--${this.boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`, 'utf8'),
      Buffer.from(text, 'latin1'),
      Buffer.from(`\r\n--${this.boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`, 'latin1'),
      html,
      Buffer.from(`\r\n--${this.boundary}--\r\n`, 'latin1'),
    ]);
    return {
      raw,
      messageId,
      envelope: { from: this.sender.address, to: [recipient.email] },
    };
  }
}

/** Bytes per line of base64: 57 bytes make the 76 characters RFC 2045 allows. */
const LINE_BYTES = 57;
/** Encoded a few kilobytes at a time, so no string is ever large enough to outlive a minor GC. */
const BLOCK_BYTES = LINE_BYTES * 64;

/**
 * Base64 in lines of 76, written straight into a buffer. Encoding the part as one string and then
 * cutting it up would leave a 100 KB string per reader in the old generation until a full GC, and
 * memory would climb with the number of readers.
 */
function base64Lines(bytes: Buffer): Buffer {
  const lines = Math.max(1, Math.ceil(bytes.length / LINE_BYTES));
  const out = Buffer.allocUnsafe(Math.ceil(bytes.length / 3) * 4 + (lines - 1) * 2);
  let at = 0;
  for (let start = 0; start < bytes.length; start += BLOCK_BYTES) {
    const text = bytes.toString('base64', start, Math.min(start + BLOCK_BYTES, bytes.length));
    for (let line = 0; line < text.length; line += 76) {
      if (at) {
        out[at++] = 13;
        out[at++] = 10;
      }
      at += out.write(text.slice(line, line + 76), at, 'latin1');
    }
  }
  return out.subarray(0, at);
}

/** No field from a subscriber record or the front matter can end a header line early. */
function oneLine(value: string): string {
  return value.replace(/[\r\n\t\v\f\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}

function header(name: string, value: string): string {
  return mimeFuncs.foldLines(`${name}: ${value}`, 76).replace(/\r?\n$/, '');
}

/** `"Name" <address>`, the name encoded (RFC 2047) when it is not plain ASCII. */
function mailbox(name: string, address: string): string {
  const clean = oneLine(name);
  return clean ? `${phrase(clean)} <${address}>` : `<${address}>`;
}

function phrase(value: string): string {
  const clean = oneLine(value);
  if (/^[\x20-\x7e]*$/.test(clean)) return mimeFuncs.quoteString(clean);
  return mimeFuncs.encodeWord(clean, 'Q', 52);
}

function slugify(value: string): string {
  return value.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'newsletter';
}
