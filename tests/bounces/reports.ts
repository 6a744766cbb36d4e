/**
 * Reports shaped as the mail servers send them, built around a message digest sent (its headers as
 * the SMTP sink received them): a Postfix-style DSN (RFC 3464), an ARF complaint (RFC 5965) as the
 * big mailbox providers' feedback loops send it, with the recipient redacted, and a vacation reply.
 */
/** The project both bounce suites send from: a tagged bounce address, a secret to seal the tags. */
export const SECRET = 'a test secret of at least thirty-two characters';
export const config = `name: The Test Gazette
from: "Test Gazette <news@gazette.example>"
address: "1 Press Lane, Testville"
baseUrl: https://gazette.example/news
bounceAddress: bounces@bounces.gazette.example
`;

export interface Sent {
  recipient: string;
  envelopeFrom: string;
  raw: Buffer;
}

const headersOf = (sent: Sent) => sent.raw.toString('utf8').split('\r\n\r\n')[0]!;
let serial = 0;

export function dsn(sent: Sent, options: { status: string; diagnostic: string; action?: string; recipient?: string }): string {
  const id = `dsn-${++serial}-${Date.now()}@mx.example.net`;
  const boundary = `B${serial}.1717171717/mx.example.net`;
  return [
    `Return-Path: <>`,
    `Delivered-To: ${sent.envelopeFrom}`,
    `From: MAILER-DAEMON@mx.example.net (Mail Delivery System)`,
    `To: ${sent.envelopeFrom}`,
    `Subject: Undelivered Mail Returned to Sender`,
    `Date: Mon, 30 Nov 2026 10:00:00 +0000`,
    `Message-ID: <${id}>`,
    `Auto-Submitted: auto-replied`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    ``,
    `--${boundary}`,
    `Content-Type: text/plain; charset=us-ascii`,
    ``,
    `This is the mail system at host mx.example.net.`,
    ``,
    `I'm sorry to have to inform you that your message could not be delivered to one or more recipients.`,
    ``,
    `<${options.recipient ?? sent.recipient}>: host in.example.org[192.0.2.7] said: ${options.diagnostic} (in reply to RCPT TO command)`,
    ``,
    `--${boundary}`,
    `Content-Type: message/delivery-status`,
    ``,
    `Reporting-MTA: dns; mx.example.net`,
    `Arrival-Date: Mon, 30 Nov 2026 09:59:58 +0000`,
    ``,
    `Final-Recipient: rfc822; ${options.recipient ?? sent.recipient}`,
    `Original-Recipient: rfc822;${options.recipient ?? sent.recipient}`,
    `Action: ${options.action ?? 'failed'}`,
    `Status: ${options.status}`,
    `Remote-MTA: dns; in.example.org`,
    `Diagnostic-Code: smtp; ${options.diagnostic}`,
    ``,
    `--${boundary}`,
    `Content-Type: text/rfc822-headers`,
    ``,
    headersOf(sent).replace(/\r\n/g, '\n'),
    ``,
    `--${boundary}--`,
    ``,
  ].join('\n');
}

export function complaint(sent: Sent, options: { redact?: boolean } = {}): string {
  const boundary = `ARF${++serial}`;
  return [
    `From: feedback@fbl.example.com`,
    `To: ${sent.envelopeFrom}`,
    `Subject: Complaint about a message`,
    `Date: Mon, 30 Nov 2026 11:00:00 +0000`,
    `Message-ID: <arf-${serial}-${Date.now()}@fbl.example.com>`,
    `MIME-Version: 1.0`,
    `Content-Type: multipart/report; report-type=feedback-report; boundary="${boundary}"`,
    ``,
    `--${boundary}`,
    `Content-Type: text/plain`,
    ``,
    `This is an email abuse report for an email message received from IP 192.0.2.1.`,
    ``,
    `--${boundary}`,
    `Content-Type: message/feedback-report`,
    ``,
    `Feedback-Type: abuse`,
    `User-Agent: ExampleFBL/1.0`,
    `Version: 1`,
    `Original-Mail-From: <${sent.envelopeFrom}>`,
    `Original-Rcpt-To: ${options.redact ? 'redacted@example.com' : sent.recipient}`,
    `Arrival-Date: Mon, 30 Nov 2026 09:59:58 +0000`,
    `Source-IP: 192.0.2.1`,
    ``,
    `--${boundary}`,
    `Content-Type: text/rfc822-headers`,
    ``,
    (options.redact ? headersOf(sent).replace(new RegExp(sent.recipient.replace(/[.+]/g, '\\$&'), 'g'), 'redacted@example.com') : headersOf(sent)).replace(/\r\n/g, '\n'),
    ``,
    `--${boundary}--`,
    ``,
  ].join('\n');
}

export function vacation(sent: Sent): string {
  return [
    `From: ${sent.recipient}`,
    `To: ${sent.envelopeFrom}`,
    `Subject: Out of office: back on Monday`,
    `Auto-Submitted: auto-replied`,
    `Date: Mon, 30 Nov 2026 10:00:00 +0000`,
    `Message-ID: <vacation-${++serial}@example.org>`,
    `In-Reply-To: ${/^Message-ID: (.*)$/im.exec(headersOf(sent))?.[1] ?? ''}`,
    ``,
    `I am away until Monday with no access to email.`,
    ``,
  ].join('\n');
}
