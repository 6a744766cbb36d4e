import { UserError } from '../errors.js';
import { redact } from '../redact.js';

/** Where the bounce mailbox is and how to log in: read from the environment, never from a flag. */
export interface ImapSettings {
  host: string;
  port: number;
  /** TLS from the first byte (`imaps://`). */
  secure: boolean;
  /**
   * For `imap://`: true makes the STARTTLS upgrade a condition of connecting, false keeps the line
   * in plain text (loopback only, below).
   */
  startTls: boolean;
  user: string;
  password: string;
  /** The folder the URL names (`imap://…/Bounces`), if it names one. */
  mailbox?: string;
  /** The URL as it may be printed: never the password. */
  shown: string;
}

export const URL_VARIABLE = 'DIGEST_BOUNCE_IMAP_URL';
export const PASSWORD_VARIABLE = 'DIGEST_BOUNCE_IMAP_PASSWORD';

const EXAMPLE = 'imaps://user@host:993 or imap://user@host:143/INBOX';

/**
 * `imaps://user@host[:993][/MAILBOX]` or `imap://user@host[:143][/MAILBOX]`, the password in
 * DIGEST_BOUNCE_IMAP_PASSWORD or else in the URL (percent-encoded, as a user that is an address:
 * `bounces%40example.org`).
 */
export function imapSettings(env: NodeJS.ProcessEnv = process.env): ImapSettings {
  const url = env[URL_VARIABLE]?.trim();
  if (!url) throw new UserError(`${URL_VARIABLE} is not set: it says where the bounce mailbox is (${EXAMPLE}), with the password in ${PASSWORD_VARIABLE}`, { code: 'imap-not-configured' });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`${URL_VARIABLE} ${redact(url)} is not a valid URL (expected ${EXAMPLE})`, { code: 'invalid-imap-url' });
  }
  const shown = `${parsed.protocol}//${parsed.username ? `${parsed.username}@` : ''}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  if (parsed.protocol !== 'imap:' && parsed.protocol !== 'imaps:') throw new UserError(`${URL_VARIABLE} ${shown} must start with imap:// or imaps://`, { code: 'invalid-imap-url' });
  if (!parsed.hostname) throw new UserError(`${URL_VARIABLE} ${shown} names no host`, { code: 'invalid-imap-url' });
  if (!parsed.username) throw new UserError(`${URL_VARIABLE} ${shown} names no user to log in as (${EXAMPLE})`, { code: 'invalid-imap-url' });
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new UserError(`${URL_VARIABLE} ${shown} holds a broken %-escape`, { code: 'invalid-imap-url' });
    }
  };
  const password = env[PASSWORD_VARIABLE] || decode(parsed.password);
  if (!password) throw new UserError(`no password for the bounce mailbox ${shown}: set ${PASSWORD_VARIABLE}`, { code: 'imap-not-configured' });
  const secure = parsed.protocol === 'imaps:';
  const mailbox = decode(parsed.pathname.replace(/^\//, ''));
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : secure ? 993 : 143,
    secure,
    // The password must not cross a network in plain text: `imap://` to another machine connects
    // only if the server upgrades the line with STARTTLS. Loopback never leaves this machine, which
    // is where a local Dovecot without TLS (the tests' own, or one beside the MTA) is allowed.
    startTls: !secure && !isLoopback(parsed.hostname),
    user: decode(parsed.username),
    password,
    ...(mailbox ? { mailbox } : {}),
    shown,
  };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
