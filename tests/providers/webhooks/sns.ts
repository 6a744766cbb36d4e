/**
 * Amazon SNS as it posts to an HTTPS subscription (https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html),
 * signed as https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html says:
 * the named fields as `Name\nvalue\n` in byte order, signed SHA1withRSA (SignatureVersion 1) or
 * SHA256withRSA (2). The signing key is a fresh RSA key with a self-signed certificate made by
 * openssl; the certificate is served by `fetch`, which stands in for the internet at the URL SNS
 * would name, and records every URL it is asked for.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../audience/databases.js';

export const REGION = 'eu-west-1';
export const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:digest-bounces';
export const CERT_URL = `https://sns.${REGION}.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem`;

export interface SnsOptions {
  topic?: string;
  version?: '1' | '2';
  /** When SNS stamped the message (default: now). */
  timestamp?: Date;
  subject?: string;
  certUrl?: string;
}

export async function startSns() {
  const dir = await tempDir();
  const key = join(dir, 'sns.key');
  const cert = join(dir, 'sns.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=sns.amazonaws.com'], { stdio: 'ignore' });
  const privateKey = readFileSync(key, 'utf8');
  const certificate = readFileSync(cert, 'utf8');
  const fetched: string[] = [];

  function signed(fields: Record<string, string>, names: string[], options: SnsOptions): string {
    const version = options.version ?? '1';
    let text = '';
    for (const name of names) if (fields[name] !== undefined) text += `${name}\n${fields[name]}\n`;
    const signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(text, 'utf8'), privateKey).toString('base64');
    return JSON.stringify({ ...fields, SignatureVersion: version, Signature: signature, SigningCertURL: options.certUrl ?? CERT_URL }, null, 2);
  }

  return {
    /** What digest fetched: certificates and SubscribeURLs. */
    fetched,
    async fetch(url: URL): Promise<string> {
      fetched.push(url.href);
      if (url.href === CERT_URL) return certificate;
      if (url.searchParams.get('Action') === 'ConfirmSubscription') return '<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:eu-west-1:123456789012:digest-bounces:1</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>';
      throw new Error(`404 at ${url.href}`);
    },
    /** A Notification carrying `message` (an SES notification, as JSON text). */
    notification(message: unknown, options: SnsOptions = {}): string {
      const topic = options.topic ?? TOPIC;
      const fields: Record<string, string> = {
        Type: 'Notification',
        MessageId: randomUUID(),
        TopicArn: topic,
        ...(options.subject !== undefined ? { Subject: options.subject } : {}),
        Message: typeof message === 'string' ? message : JSON.stringify(message),
        Timestamp: (options.timestamp ?? new Date()).toISOString(),
        UnsubscribeURL: `https://sns.${REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topic}:1`,
      };
      return signed(fields, ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'], options);
    },
    /** The SubscriptionConfirmation SNS posts when the subscription is made. */
    confirmation(options: SnsOptions & { subscribeUrl?: string } = {}): string {
      const topic = options.topic ?? TOPIC;
      const token = '2336412f37fb687f5d51e6e2425c464de12884a3ea2abd';
      const fields: Record<string, string> = {
        Type: 'SubscriptionConfirmation',
        MessageId: randomUUID(),
        Token: token,
        TopicArn: topic,
        Message: `You have chosen to subscribe to the topic ${topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
        SubscribeURL: options.subscribeUrl ?? `https://sns.${REGION}.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topic}&Token=${token}`,
        Timestamp: (options.timestamp ?? new Date()).toISOString(),
      };
      return signed(fields, ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'], options);
    },
  };
}

/** The headers SNS sends with a message of this type (its content type is text/plain). */
export function snsHeaders(type = 'Notification'): Record<string, string> {
  return { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': type, 'user-agent': 'Amazon Simple Notification Service Agent' };
}

/** An SES bounce notification (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html). */
export function sesBounce(options: { email: string; messageId?: string; type?: string; subType?: string; status?: string; diagnostic?: string; feedbackId?: string }) {
  return {
    notificationType: 'Bounce',
    bounce: {
      bounceType: options.type ?? 'Permanent',
      bounceSubType: options.subType ?? 'General',
      bouncedRecipients: [{ emailAddress: options.email, action: 'failed', status: options.status ?? '5.1.1', diagnosticCode: options.diagnostic ?? 'smtp; 550 5.1.1 user unknown' }],
      timestamp: new Date().toISOString(),
      feedbackId: options.feedbackId ?? `0100018c-${randomUUID()}-000000`,
      remoteMtaIp: '192.0.2.25',
      reportingMTA: 'dsn; a48-112.smtp-out.amazonses.com',
    },
    mail: mail(options.email, options.messageId),
  };
}

/** An SES complaint notification. */
export function sesComplaint(options: { email: string; messageId?: string; feedbackType?: string; feedbackId?: string }) {
  return {
    notificationType: 'Complaint',
    complaint: {
      userAgent: 'ExampleCorp Feedback Loop (V0.01)',
      complainedRecipients: [{ emailAddress: options.email }],
      complaintFeedbackType: options.feedbackType ?? 'abuse',
      arrivalDate: new Date().toISOString(),
      timestamp: new Date().toISOString(),
      feedbackId: options.feedbackId ?? `0100018c-${randomUUID()}-000000`,
    },
    mail: mail(options.email, options.messageId),
  };
}

/** An SES delivery notification. */
export function sesDelivery(email: string) {
  return { notificationType: 'Delivery', delivery: { timestamp: new Date().toISOString(), recipients: [email], smtpResponse: '250 ok' }, mail: mail(email) };
}

function mail(email: string, messageId?: string) {
  return {
    timestamp: new Date().toISOString(),
    source: 'news@gazette.example',
    messageId: `0100018c${randomUUID().replace(/-/g, '')}-000000`,
    destination: [email],
    headersTruncated: false,
    headers: messageId ? [{ name: 'Message-ID', value: messageId }] : [],
    commonHeaders: { from: ['Test Gazette <news@gazette.example>'], to: [email], ...(messageId ? { messageId } : {}), subject: 'Bridge reopens' },
  };
}
