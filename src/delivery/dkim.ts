import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PassThrough } from 'node:stream';
import DKIM from 'nodemailer/lib/dkim';
import { UserError } from '../errors.js';
import type { OutgoingMessage } from './message.js';

export interface DkimSettings {
  domainName: string;
  keySelector: string;
  privateKey: string;
}

/** The headers a signature must cover; nodemailer's default list leaves out the one-click pair. */
export const SIGNED_HEADERS = 'From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:List-Id:List-Unsubscribe:List-Unsubscribe-Post';

/**
 * Signs the bytes the factory built, for every channel that hands over our own MIME (SMTP, SES,
 * Mailgun, the outbox): the signature is the same whichever route carries the message. Providers
 * that rebuild the message from fields (Postmark, SendGrid, Resend) sign with their own keys.
 */
export class DkimSigner {
  private readonly signer: InstanceType<typeof DKIM>;

  constructor(readonly settings: DkimSettings) {
    this.signer = new DKIM({ ...settings, headerFieldNames: SIGNED_HEADERS } as never);
  }

  sign(message: OutgoingMessage): Promise<Buffer> {
    return new Promise((done, fail) => {
      const chunks: Buffer[] = [];
      const output = this.signer.sign(message.raw) as PassThrough;
      output.on('data', (chunk: Buffer) => chunks.push(chunk));
      output.on('end', () => done(Buffer.concat(chunks)));
      output.on('error', fail);
    });
  }
}

/** DKIM settings from the environment: a key (PEM text or a file path), a selector and a domain. */
export function dkimFromEnvironment(senderDomain: string, env: NodeJS.ProcessEnv = process.env): DkimSigner | undefined {
  const key = env.DIGEST_DKIM_PRIVATE_KEY;
  if (!key) return undefined;
  const selector = env.DIGEST_DKIM_SELECTOR;
  if (!selector) throw new UserError('DIGEST_DKIM_SELECTOR must be set with DIGEST_DKIM_PRIVATE_KEY', { code: 'invalid-dkim' });
  let privateKey: string;
  try {
    privateKey = key.includes('-----BEGIN') ? key : readFileSync(key, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read the DKIM key named by DIGEST_DKIM_PRIVATE_KEY (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, { code: 'invalid-dkim' });
  }
  // nodemailer's signer lets a message through unsigned when it cannot use the key, without a
  // word: a key that is not a usable private key is refused here, before anything is sent.
  try {
    const parsed = createPrivateKey(privateKey);
    if (parsed.asymmetricKeyType !== 'rsa') throw new Error(`an ${parsed.asymmetricKeyType} key, and the signer takes RSA only`);
  } catch (error) {
    throw new UserError(`DIGEST_DKIM_PRIVATE_KEY is not a usable DKIM private key (an RSA key in PEM): ${(error as Error).message.split('\n')[0]}`, { code: 'invalid-dkim' });
  }
  return new DkimSigner({ domainName: env.DIGEST_DKIM_DOMAIN ?? senderDomain, keySelector: selector, privateKey });
}
