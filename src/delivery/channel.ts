import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { redact } from '../redact.js';
import { writeFileAtomic } from '../fs.js';
import type { OutgoingMessage } from './message.js';
import { openConnection, SmtpPool, type Connection, type SendFailure } from './smtp-pool.js';

/**
 * Where the built messages of a send go: an SMTP server through a pool of connections, or the
 * outbox folder, one .eml file per reader. Only the description is ever printed: no credentials.
 */
export interface Channel {
  readonly description: string;
  readonly real: boolean;
  /** Whether addresses with non-ASCII characters can be delivered (SMTPUTF8). */
  readonly internationalOk: boolean;
  /**
   * Delivers one message. With `ready`, the channel may prepare (an SMTP envelope) but hands over
   * no byte of the message before `ready` resolves true; if it resolves false, nothing is sent and
   * the delivery rejects.
   */
  deliver(message: OutgoingMessage, key: string, ready?: Promise<boolean>): Promise<{ reply: string }>;
  close(): void;
  /** Ends the deliveries still waiting for an answer at once: each rejects (see classify). */
  abort(): void;
}

/**
 * What an attempt's failure means for the reader: try again (nothing complete reached the server),
 * failed for good, unknown (the whole message went out and no answer came back: it may have been
 * accepted, so it is not sent again on its own), or fatal for the whole send.
 */
export type Verdict =
  | { kind: 'retry'; reply: string }
  | { kind: 'failed'; reply: string; bounce: boolean }
  | { kind: 'unknown'; reply: string }
  | { kind: 'fatal'; reply: string };

export function outboxChannel(folder: string, slug: string): Channel {
  return {
    description: `the outbox (${folder})`,
    real: false,
    internationalOk: true,
    async deliver(message, key, ready) {
      if (ready && !(await ready)) throw Object.assign(new Error('the reader is no longer this sender\'s to send'), { abandoned: true });
      // One file per reader, named by the reader: a rerun rewrites it rather than adding a second.
      const name = `${createHash('sha256').update(key).digest('hex').slice(0, 24)}.eml`;
      await writeFileAtomic(join(folder, slug, name), message.raw);
      return { reply: `written to ${join(folder, slug, name)}` };
    },
    close() {},
    abort() {},
  };
}

export interface SmtpOptions {
  url: string;
  concurrency: number;
  /** The longest wait for any answer from the server. */
  timeoutMs?: number;
  dkim?: { domainName: string; keySelector: string; privateKey: string };
}

/** The headers a DKIM signature must cover; nodemailer's default list leaves out the one-click pair. */
export const SIGNED_HEADERS = 'From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:List-Id:List-Unsubscribe:List-Unsubscribe-Post';

/**
 * Opens an SMTP channel after one probe connection: a server that is down or refuses the
 * credentials is reported before anything is sent or recorded, and the probe learns whether the
 * server takes internationalised addresses.
 */
export async function smtpChannel(options: SmtpOptions): Promise<Channel> {
  const description = describeSmtpUrl(options.url);
  const internationalOk = await probe(options.url, description, options.timeoutMs);
  const pool = new SmtpPool({
    url: options.url,
    size: options.concurrency,
    timeoutMs: options.timeoutMs,
    dkim: options.dkim ? { ...options.dkim, headerFieldNames: SIGNED_HEADERS } : undefined,
  });
  return {
    description,
    real: true,
    internationalOk,
    async deliver(message, _key, ready) {
      return { reply: await pool.send(message.envelope, message.pieces, { transparent: true, ready }) };
    },
    close() {
      pool.close();
    },
    abort() {
      pool.abort();
    },
  };
}

/**
 * The SMTP URL as it may be printed: scheme, host and port, never the credentials. A URL that
 * cannot be read is refused here, before anything is opened, in words that leave the password out.
 */
export function describeSmtpUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`the SMTP URL ${redact(url)} is not a valid URL (expected smtp://user:password@host:port or smtps://…)`, { code: 'invalid-smtp-url' });
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw new UserError(`the SMTP URL ${redact(url)} must start with smtp:// or smtps://`, { code: 'invalid-smtp-url' });
  }
  if (!parsed.hostname) throw new UserError(`the SMTP URL ${redact(url)} names no host`, { code: 'invalid-smtp-url' });
  return `${parsed.protocol.replace(':', '')}://${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}`;
}

async function probe(url: string, description: string, timeoutMs?: number): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await openConnection(url, timeoutMs);
    return connection.extensions.includes('SMTPUTF8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const reason =
      code === 'EAUTH'
        ? 'the server refused the username or password'
        : code === 'ECONNREFUSED' || (error as Error).message.includes('ECONNREFUSED')
          ? 'nothing is listening there'
          : (error as Error).message.replace(/\s+/g, ' ');
    throw new UserError(`cannot send through ${description}: ${reason}`, { code: 'smtp-unavailable', cause: error });
  } finally {
    connection?.smtp.quit();
  }
}

/**
 * 5xx is final and a 5.1.x (no such mailbox) marks the address bounced; 4xx, or a dropped
 * connection or a timeout before the whole message was out, may pass, so they are tried again; a
 * dropped connection or a timeout after it is unknown; refused credentials stop the whole send.
 */
export function classify(error: unknown): Verdict {
  const { responseCode, response, code, message, afterData } = error as SendFailure;
  const reply = (response ?? message ?? String(error)).replace(/\s+/g, ' ').trim();
  if (code === 'EAUTH') return { kind: 'fatal', reply: `the server refused the credentials: ${reply}` };
  if (afterData && !responseCode) {
    return { kind: 'unknown', reply: `no answer after the whole message was sent (${reply}); the server may have accepted it` };
  }
  if (responseCode && responseCode >= 500) {
    const bounce = /^5\d\d[ -]5\.1\.\d/.test(reply) || ([550, 551, 553].includes(responseCode) && /\b5\.1\.\d\b/.test(reply));
    return { kind: 'failed', reply, bounce };
  }
  return { kind: 'retry', reply };
}

/** DKIM settings from the environment: a key (PEM text or a file path), a selector and a domain. */
export function dkimFromEnvironment(senderDomain: string): SmtpOptions['dkim'] {
  const key = process.env.DIGEST_DKIM_PRIVATE_KEY;
  if (!key) return undefined;
  const selector = process.env.DIGEST_DKIM_SELECTOR;
  if (!selector) throw new UserError('DIGEST_DKIM_SELECTOR must be set with DIGEST_DKIM_PRIVATE_KEY', { code: 'invalid-dkim' });
  const privateKey = key.includes('-----BEGIN') ? key : readFileSync(key, 'utf8');
  return { domainName: process.env.DIGEST_DKIM_DOMAIN ?? senderDomain, keySelector: selector, privateKey };
}
