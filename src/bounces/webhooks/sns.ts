import { verify, X509Certificate, type KeyObject } from 'node:crypto';

/**
 * Amazon SNS's message signatures, checked as AWS documents them
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html): the fields
 * named for the message's type, each as `Name\nvalue\n`, in that order, signed with SHA1withRSA
 * (SignatureVersion 1) or SHA256withRSA (2) by the key of the certificate at SigningCertURL.
 * That URL is trusted only over https and only on SNS's own hosts, `sns.<region>.amazonaws.com`
 * (`.amazonaws.com.cn` in China): anyone can put a certificate of their own on any other host.
 */
export interface SnsMessage {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  SubscribeURL?: string;
  Token?: string;
}

/**
 * Gets the text at an https URL on an SNS host. The default is `httpsGet`; tests give their own,
 * as there is no internet there. The URL is checked against SNS's hosts before this is called.
 */
export type SnsFetch = (url: URL) => Promise<string>;

const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;
const NOTIFICATION_FIELDS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const CONFIRMATION_FIELDS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const;
const ALGORITHMS: Record<string, string> = { '1': 'sha1', '2': 'sha256' };
/** Certificates kept (SNS signs with one per region, rotated rarely). */
const CACHED_CERTIFICATES = 32;

/** The URL, when it is https on an SNS host with nothing unusual (no credentials, no port); else undefined. */
export function snsUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.port || !SNS_HOST.test(url.hostname)) return undefined;
  return url;
}

/** The text SNS signed for this message. */
export function stringToSign(message: SnsMessage): string {
  const fields = message.Type === 'Notification' ? NOTIFICATION_FIELDS : CONFIRMATION_FIELDS;
  let text = '';
  for (const field of fields) {
    const value = message[field];
    // Subject is signed only when the message has one (absent, or null); every other field must be there.
    if ((value === undefined || value === null) && field === 'Subject') continue;
    text += `${field}\n${value}\n`;
  }
  return text;
}

export class SnsVerifier {
  private readonly certificates = new Map<string, Promise<KeyObject>>();

  constructor(private readonly fetch: SnsFetch = httpsGet) {}

  /** Why the message's signature is not SNS's, or undefined when it is. */
  async problem(message: SnsMessage, now = new Date()): Promise<string | undefined> {
    const algorithm = ALGORITHMS[message.SignatureVersion];
    if (!algorithm) return `unknown SignatureVersion ${JSON.stringify(message.SignatureVersion)}`;
    const fields = message.Type === 'Notification' ? NOTIFICATION_FIELDS : CONFIRMATION_FIELDS;
    for (const field of fields) if (field !== 'Subject' && typeof message[field] !== 'string') return `the message has no ${field}`;
    const url = snsUrl(message.SigningCertURL);
    if (!url || !url.pathname.endsWith('.pem')) return 'SigningCertURL is not an https .pem URL on an SNS host (sns.<region>.amazonaws.com)';
    let key: KeyObject;
    try {
      key = await this.certificate(url, now);
    } catch (error) {
      return `the signing certificate cannot be used: ${(error as Error).message}`;
    }
    const signature = Buffer.from(message.Signature, 'base64');
    if (!signature.length || !verify(algorithm, Buffer.from(stringToSign(message), 'utf8'), key, signature)) return 'the signature does not match';
    return undefined;
  }

  /** The certificate's public key, fetched once per URL; a failed fetch is not kept. */
  private certificate(url: URL, now: Date): Promise<KeyObject> {
    const cached = this.certificates.get(url.href);
    if (cached) return cached;
    const loading = (async () => {
      const certificate = new X509Certificate(await this.fetch(url));
      if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) throw new Error(`it is valid from ${certificate.validFrom} to ${certificate.validTo} only`);
      if (certificate.publicKey.asymmetricKeyType !== 'rsa') throw new Error('its key is not RSA');
      return certificate.publicKey;
    })();
    loading.catch(() => this.certificates.delete(url.href));
    if (this.certificates.size >= CACHED_CERTIFICATES) this.certificates.delete(this.certificates.keys().next().value!);
    this.certificates.set(url.href, loading);
    return loading;
  }
}

/** The production fetch: https only, no redirects, ten seconds, 64 KB at most. */
export async function httpsGet(url: URL): Promise<string> {
  if (url.protocol !== 'https:') throw new Error('only https');
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${url.host} answered ${response.status}`);
  const text = await response.text();
  if (text.length > 64 * 1024) throw new Error(`${url.host} answered with more than 64 KB`);
  return text;
}
