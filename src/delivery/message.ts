import { createHash, randomBytes } from 'node:crypto';
import addressparser from 'nodemailer/lib/addressparser';
import * as mimeFuncs from 'nodemailer/lib/mime-funcs';
import { UserError } from '../errors.js';
import type { Edition } from '../render/index.js';
import { compileMerge, compileSplicePieces, type Merge, type Reader } from '../render/merge.js';
import { quotedPrintablePieces } from './quoted-printable.js';
import { sealUnsubscribe, unsubscribeUrl, type UnsubscribeKey } from './unsubscribe.js';
import { bounceTag, verpAddress, type BounceKey } from '../bounces/verp.js';
import { emailKey } from '../audience/key.js';
import { sealReader, type ReaderKey } from '../tracking/token.js';

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
  /** Bounces come back to this address with the reader's tag (VERP): src/bounces/verp.ts. */
  bounce?: { address: string; key: BounceKey };
  /** Seals each reader's click token, for an edition whose links end in one (edition.readerLinks). */
  readerKey?: ReaderKey;
}

export interface OutgoingMessage {
  /**
   * The message's bytes in pieces, most of them shared by every reader's message: sent one after
   * the other, so that no reader's message is ever copied into one buffer of its own. CRLF line
   * breaks only, and no line that begins with a dot: the bytes can go to SMTP's DATA as they are,
   * without dot-stuffing. Every piece is built to keep this (headers folded with CRLF and stripped
   * of line breaks from fields, bodies from quoted-printable pieces).
   */
  pieces: Buffer[];
  /** The pieces joined, for the outbox's files and DKIM signing. */
  readonly raw: Buffer;
  messageId: string;
  envelope: { from: string; to: string[] };
  /** The From header's address: the envelope sender too, unless bounces go to a tagged address. */
  sender: string;
  /** The tag in the envelope sender, when bounces go to a tagged address; the journal keeps it. */
  bounceTag?: string;
  /**
   * The same message as fields, for providers whose API rebuilds the MIME itself (Postmark,
   * SendGrid, Resend): made on demand, so channels that carry our bytes pay nothing for it.
   */
  fields(): MessageFields;
}

export interface MessageFields {
  /** `"Name" <address>`, encoded as in the header. */
  from: string;
  fromAddress: string;
  fromName: string;
  to: string;
  toName: string | null;
  subject: string;
  html: string;
  text: string;
  /** The headers a provider must carry over as they are: List-Id, List-Unsubscribe and its -Post, Message-ID, the test mark. */
  headers: Record<string, string>;
}

/**
 * Builds each reader's message by splicing: everything the readers share (the From and List-Id
 * headers, the MIME structure, the HTML and text already encoded as quoted-printable) is prepared
 * once per issue; per reader only the merge fields run, are encoded, and the bytes are joined.
 * Quoted-printable rather than base64 for the HTML: it splices (base64 would have to be redone
 * whole for each reader), it is a quarter smaller for mostly-ASCII markup, and it stays readable.
 */
export class MessageFactory {
  private readonly html: (reader: Reader) => Buffer[];
  private plain?: { html: Merge; text: Merge };
  private readonly text: (reader: Reader) => Buffer[];
  private readonly textHeader: Buffer;
  private readonly htmlHeader: Buffer;
  private readonly closing: Buffer;
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
    this.html = compileSplicePieces(edition.html, 'html', quotedPrintablePieces);
    this.text = compileSplicePieces(edition.text, 'text', quotedPrintablePieces);
    // Each encoded part ends its last line, so the boundaries follow directly.
    this.textHeader = Buffer.from(`\r\n\r\n--${this.boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`, 'latin1');
    this.htmlHeader = Buffer.from(`--${this.boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`, 'latin1');
    this.closing = Buffer.from(`--${this.boundary}--\r\n`, 'latin1');
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
      click_reader:
        this.edition.readerLinks && this.settings.readerKey
          ? sealReader({ emailKey: emailKey(recipient.email), issue: this.edition.meta.slug }, this.settings.readerKey)
          : undefined,
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

    const pieces = [Buffer.from(head, 'utf8'), this.textHeader, ...this.text(reader), this.htmlHeader, ...this.html(reader), this.closing];
    let joined: Buffer | undefined;
    const fields = (): MessageFields => {
      this.plain ??= { html: compileMerge(this.edition.html), text: compileMerge(this.edition.text, 'text') };
      return {
        from: mailbox(this.sender.name, this.sender.address),
        fromAddress: this.sender.address,
        fromName: oneLine(this.sender.name),
        to: recipient.email,
        toName: recipient.name ? oneLine(recipient.name) : null,
        subject: oneLine(subject),
        html: this.plain.html(reader),
        text: this.plain.text(reader),
        headers: {
          'List-Id': `${phrase(this.settings.newsletter)} <${slugify(this.settings.newsletter)}.${this.domain}>`,
          'List-Unsubscribe': listUnsubscribe.join(', '),
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          'Message-ID': messageId,
          ...(this.settings.test ? { 'X-Digest-Test': 'yes' } : {}),
        },
      };
    };
    const tag = this.settings.bounce && bounceTag(this.settings.bounce.key, this.edition.meta.slug, key);
    return {
      pieces,
      get raw() {
        return (joined ??= Buffer.concat(pieces));
      },
      messageId,
      envelope: { from: tag ? verpAddress(this.settings.bounce!.address, tag) : this.sender.address, to: [recipient.email] },
      sender: this.sender.address,
      bounceTag: tag || undefined,
      fields,
    };
  }
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
