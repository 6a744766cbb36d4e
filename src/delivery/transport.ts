import { createHash } from 'node:crypto';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { writeFileAtomic } from '../fs.js';

/** Where messages go: an SMTP server, or the outbox folder when none is configured. */
export interface Transport {
  /** Safe to print: no credentials. */
  readonly description: string;
  send(mail: Mail.Options): Promise<{ messageId: string; response: string }>;
  close(): void;
}

/**
 * `DIGEST_SMTP_URL` (or a flag) picks SMTP; without one, messages become .eml files in the outbox:
 * nothing leaves the machine by accident.
 */
export function openTransport(options: { smtpUrl?: string; outbox: string }): Transport {
  return options.smtpUrl ? smtpTransport(options.smtpUrl) : outboxTransport(options.outbox);
}

export function outboxTransport(folder: string): Transport {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    description: `the outbox (${folder})`,
    async send(mail) {
      const info = (await composer.sendMail(mail)) as unknown as { messageId: string; message: Buffer };
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${createHash('sha256').update(info.message).digest('hex').slice(0, 12)}.eml`;
      await writeFileAtomic(join(folder, name), info.message);
      return { messageId: info.messageId, response: `written to ${join(folder, name)}` };
    },
    close() {},
  };
}

export function smtpTransport(url: string): Transport {
  const transport = nodemailer.createTransport(url);
  const parsed = new URL(url);
  return {
    description: `${parsed.protocol.replace(':', '')}://${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}`,
    async send(mail) {
      const info = await transport.sendMail(mail);
      return { messageId: info.messageId, response: info.response };
    },
    close() {
      transport.close();
    },
  };
}
