import { createHash } from 'node:crypto';
import libmime from 'libmime';
import { simpleParser, type ParsedMail } from 'mailparser';

/**
 * What a report says, read with the field's libraries: mailparser splits the MIME (keeping the
 * message/delivery-status part of an RFC 3464 DSN and the message/feedback-report of an RFC 5965
 * ARF report as parts), and libmime reads each of their field blocks. Nothing here decides what
 * the report means (classify.ts) or whom it is about (match.ts).
 */
export interface Report {
  /** The report's own Message-ID, else a hash of its bytes: the same report read twice is one. */
  id: string;
  from: string;
  subject: string;
  /** `delivery-status`, `feedback-report`, or undefined for a message that is not a MIME report. */
  reportType?: string;
  /** An automatic answer (RFC 3834 Auto-Submitted, the common vacation marks): never a bounce. */
  autoReply: boolean;
  /** One per recipient block of a DSN. */
  recipients: DsnRecipient[];
  /** An ARF complaint's fields. */
  feedback?: { type: string; originalRcptTo?: string; originalMailFrom?: string };
  /** Exim's X-Failed-Recipients and the like: who a plain-text bounce is about. */
  failedRecipients: string[];
  /** Every `local+TAG@domain` form in the report and the message it returns (see verp.ts). */
  addresses: string[];
  /** Message-IDs of the returned message (not the report's own). */
  messageIds: string[];
  /** The human-readable text, for bounces that are not DSNs (at most 64 KB). */
  text: string;
  /** The report's own header lines (at most 8 KB): which software wrote it. */
  headers: string;
}

export interface DsnRecipient {
  address?: string;
  action?: string;
  /** The enhanced status code, as `5.1.1`. */
  status?: string;
  /** The remote server's answer, without its `smtp;` type. */
  diagnostic?: string;
}

/** Past this a message is no report of ours: a returned newsletter is a few hundred KB at most. */
export const MAX_REPORT_BYTES = 4 * 1024 * 1024;

export async function readReport(raw: Buffer): Promise<Report> {
  const mail = await simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: false, skipImageLinks: true, skipTextLinks: true, maxHtmlLengthToParse: 256 * 1024 });
  const contentType = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const reportType = contentType?.value?.toLowerCase() === 'multipart/report' ? contentType.params?.['report-type']?.toLowerCase() : undefined;
  const recipients: DsnRecipient[] = [];
  let feedback: Report['feedback'];
  const returned: string[] = [];
  for (const attachment of mail.attachments) {
    const type = attachment.contentType.toLowerCase();
    const content = attachment.content.toString('utf8');
    if (type === 'message/delivery-status' || type === 'message/global-delivery-status') {
      for (const block of fieldBlocks(content)) recipients.push(...recipientsOf(block));
    } else if (type === 'message/feedback-report') {
      const [block = {}] = fieldBlocks(content);
      feedback = {
        type: (first(block, 'feedback-type') ?? 'abuse').toLowerCase(),
        originalRcptTo: typedAddress(first(block, 'original-rcpt-to')),
        originalMailFrom: typedAddress(first(block, 'original-mail-from')),
      };
    } else if (type === 'message/rfc822' || type === 'text/rfc822-headers' || type === 'message/rfc822-headers' || type === 'message/global' || type === 'message/global-headers') {
      returned.push(content.slice(0, 256 * 1024));
    }
  }
  // A report whose MIME is broken (a boundary that does not match, a DSN pasted as text) still
  // holds its per-recipient fields as lines: read those blocks where the parts gave none.
  if (!recipients.length) {
    const source = raw.subarray(0, 512 * 1024).toString('utf8');
    for (const [block] of source.matchAll(/^(?:Final|Original)-Recipient:[^\n]*\n(?:[^\n]*\S[^\n]*\n)*/gim)) {
      for (const recipient of recipientsOf(libmime.decodeHeaders(block.replace(/\r/g, ''), { skipPrototypeKeys: true }))) {
        if (!recipients.some((known) => known.address === recipient.address)) recipients.push(recipient);
      }
    }
  }
  const text = (mail.text ?? '').slice(0, 64 * 1024);
  // Amazon SES notifications that an SNS topic mails as JSON: the same facts, in SES's own fields.
  const ses = sesNotification(text);
  if (ses?.recipients) recipients.push(...ses.recipients);
  if (ses?.feedback) feedback = ses.feedback;
  // The returned message may also be inline (merged into the text) or quoted in a plain bounce.
  const haystack = [headerText(mail), text, ...returned, feedback?.originalMailFrom ?? ''].join('\n');
  const ownId = mail.messageId?.replace(/^<|>$/g, '');
  return {
    id: ownId ? `<${ownId}>` : `sha256:${createHash('sha256').update(raw).digest('hex')}`,
    from: mail.from?.text ?? '',
    subject: mail.subject ?? '',
    reportType,
    autoReply: isAutoReply(mail, reportType),
    recipients,
    feedback,
    failedRecipients: headerValues(mail, 'x-failed-recipients').flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean),
    addresses: [...new Set([...haystack.matchAll(/[A-Za-z0-9._%-]+\+[A-Za-z0-9]+@[A-Za-z0-9.-]+/g)].map((match) => match[0]))],
    messageIds: [...new Set([...[...[...returned, text].join('\n').matchAll(/^\s*Message-ID:\s*<([^>\s]+)>/gim)].map((match) => `<${match[1]}>`), ...(ses?.messageIds ?? [])])].filter((id) => id !== `<${ownId}>`),
    text,
    headers: headerText(mail).slice(0, 8 * 1024),
  };
}

/** A DSN or ARF part: blocks of fields separated by blank lines, each read by libmime. */
function fieldBlocks(content: string): Record<string, string[]>[] {
  return content
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((block) => block.trim())
    .filter(Boolean)
    .map((block) => libmime.decodeHeaders(`${block}\n`, { skipPrototypeKeys: true }));
}

/**
 * The recipients of one block of a DSN. Each should have a block of its own, but some servers run
 * them together with no blank line between: then each field holds one value per recipient, in order.
 */
function recipientsOf(block: Record<string, string[]>): DsnRecipient[] {
  const count = Math.max(block['final-recipient']?.length ?? 0, block['original-recipient']?.length ?? 0);
  const found: DsnRecipient[] = [];
  for (let i = 0; i < count; i++) {
    const nth = (name: string) => block[name]?.[i]?.trim() || undefined;
    const address = typedAddress(nth('final-recipient') ?? nth('original-recipient'));
    if (!address && !nth('status')) continue;
    found.push({ address, action: nth('action')?.toLowerCase(), status: statusCode(nth('status')), diagnostic: diagnostic(nth('diagnostic-code')) });
  }
  return found;
}

function first(block: Record<string, string[]>, name: string): string | undefined {
  return block[name]?.[0]?.trim() || undefined;
}

/** `rfc822; reader@example.org` → `reader@example.org`. */
function typedAddress(value: string | undefined): string | undefined {
  const address = value?.replace(/^[^;]*;\s*/, '').replace(/^<|>$/g, '').trim();
  return address && address.includes('@') ? address : undefined;
}

function statusCode(value: string | undefined): string | undefined {
  return /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(value ?? '')?.[1];
}

function diagnostic(value: string | undefined): string | undefined {
  return value?.replace(/^[^;]*;\s*/, '').replace(/\s+/g, ' ').trim().slice(0, 1000) || undefined;
}

function headerValues(mail: ParsedMail, name: string): string[] {
  return mail.headerLines.filter((line) => line.key === name).map((line) => line.line.slice(line.line.indexOf(':') + 1).trim());
}

function headerText(mail: ParsedMail): string {
  return mail.headerLines.map((line) => line.line).join('\n');
}

/** RFC 3834's Auto-Submitted, and the marks that vacation responders without it use. */
function isAutoReply(mail: ParsedMail, reportType: string | undefined): boolean {
  if (reportType) return false;
  const auto = headerValues(mail, 'auto-submitted')[0]?.toLowerCase() ?? '';
  if (auto.startsWith('auto-replied')) return true;
  if (headerValues(mail, 'x-autoreply').length || headerValues(mail, 'x-autorespond').length) return true;
  if (/^auto[_-]reply$/i.test(headerValues(mail, 'precedence')[0] ?? '')) return true;
  return /^(auto(matic)?[ -]?(reply|response)|out of (the )?office|on vacation|away from)/i.test((mail.subject ?? '').trim());
}

interface SesJson {
  notificationType?: string;
  bounce?: { bounceType?: string; bouncedRecipients?: { emailAddress?: string; action?: string; status?: string; diagnosticCode?: string }[] };
  complaint?: { complainedRecipients?: { emailAddress?: string }[]; complaintFeedbackType?: string };
  delivery?: { recipients?: string[] };
  mail?: { commonHeaders?: { messageId?: string } };
}

/** An SES notification mailed as JSON: recipients of a bounce, a complaint's type, the Message-ID. */
function sesNotification(text: string): { recipients?: DsnRecipient[]; feedback?: Report['feedback']; messageIds: string[] } | undefined {
  const start = text.indexOf('{"notificationType"');
  if (start < 0) return undefined;
  let json: SesJson;
  try {
    // Mailed notifications come with their JSON wrapped at the line length: the breaks are not its own.
    json = JSON.parse(text.slice(start, text.lastIndexOf('}') + 1).replace(/\r?\n/g, '')) as SesJson;
  } catch {
    return undefined;
  }
  const id = json.mail?.commonHeaders?.messageId;
  const messageIds = id ? [id.startsWith('<') ? id : `<${id}>`] : [];
  if (json.notificationType === 'Bounce') {
    const transient = json.bounce?.bounceType !== 'Permanent';
    return {
      messageIds,
      recipients: (json.bounce?.bouncedRecipients ?? []).map((recipient) => ({
        address: recipient.emailAddress,
        action: recipient.action ?? 'failed',
        status: statusCode(recipient.status) ?? (transient ? '4.0.0' : undefined),
        diagnostic: diagnostic(recipient.diagnosticCode),
      })),
    };
  }
  if (json.notificationType === 'Complaint') {
    return { messageIds, feedback: { type: (json.complaint?.complaintFeedbackType ?? 'abuse').toLowerCase(), originalRcptTo: json.complaint?.complainedRecipients?.[0]?.emailAddress } };
  }
  if (json.notificationType === 'Delivery') {
    return { messageIds, recipients: (json.delivery?.recipients ?? []).map((address) => ({ address, action: 'delivered', status: '2.0.0' })) };
  }
  return undefined;
}
