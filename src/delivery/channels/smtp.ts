import { UserError } from '../../errors.js';
import { redact } from '../../redact.js';
import type { Channel, ChannelSettings, Verdict } from './channel.js';
import { openConnection, SmtpPool, type Connection, type SendFailure } from './smtp-pool.js';

/**
 * `smtp://user:password@host:port` or `smtps://…`: a pool of SMTP connections. verify() opens one
 * probe connection, so a server that is down or refuses the credentials is reported before
 * anything is sent or recorded, and learns whether the server takes internationalised addresses.
 */
export function smtpChannel(url: string, settings: ChannelSettings): Channel {
  const description = describeSmtpUrl(url);
  const pool = new SmtpPool({ url, size: settings.concurrency, timeoutMs: settings.timeoutMs });
  const signer = settings.dkim;
  let internationalOk = false;
  return {
    description,
    real: true,
    get internationalOk() {
      return internationalOk;
    },
    async verify() {
      internationalOk = await probe(url, description, settings.timeoutMs);
    },
    async deliver(message, options = {}) {
      // Our own bytes are built without a line that begins with a dot (see OutgoingMessage), so
      // they skip dot-stuffing; a signature is folded by nodemailer's signer, not vouched for by us.
      const raw = signer ? await signer.sign(message) : message.pieces;
      return { reply: await pool.send(message.envelope, raw, { transparent: !signer, ready: options.ready }) };
    },
    classify: classifySmtp,
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
        : unreachable(error)
          ? 'nothing is listening there'
          : (error as Error).message.replace(/\s+/g, ' ');
    throw new UserError(`cannot send through ${description}: ${reason}`, { code: 'route-unavailable', cause: error });
  } finally {
    connection?.smtp.quit();
  }
}

/** No server to talk to at all: a connection refused, or a host that does not resolve. */
function unreachable(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || /ECONNREFUSED|ENOTFOUND/.test(message ?? '');
}

/**
 * 5xx is final and a 5.1.x (no such mailbox) marks the address bounced; 4xx, or a dropped
 * connection or a timeout before the whole message was out, may pass, so they are tried again; a
 * dropped connection or a timeout after it is unknown. Refused credentials, or a server no longer
 * there, take the route down: nothing of the message reached it.
 */
export function classifySmtp(error: unknown): Verdict {
  const { responseCode, response, code, message, afterData } = error as SendFailure;
  const reply = (response ?? message ?? String(error)).replace(/\s+/g, ' ').trim();
  if (code === 'EAUTH') return { kind: 'down', reply: `the server refused the credentials: ${reply}` };
  if (afterData && !responseCode) {
    return { kind: 'unknown', reply: `no answer after the whole message was sent (${reply}); the server may have accepted it` };
  }
  if (!responseCode && unreachable(error)) return { kind: 'down', reply: `the server is not reachable: ${reply}` };
  if (responseCode && responseCode >= 500) {
    const bounce = /^5\d\d[ -]5\.1\.\d/.test(reply) || ([550, 551, 553].includes(responseCode) && /\b5\.1\.\d\b/.test(reply));
    return { kind: 'failed', reply, bounce };
  }
  return { kind: 'retry', reply };
}
