import { createHash } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../fs.js';
import { AbandonedDelivery, type Channel, type ChannelSettings, type Verdict } from './channel.js';

/**
 * `outbox:DIR`: one .eml file per reader in DIR/<issue>/, named by the reader, so a rerun rewrites
 * a file rather than adding a second. A rehearsal: nothing leaves the machine. The bytes are what
 * a real route would carry, DKIM signature included when a key is set.
 */
export function outboxChannel(folder: string, settings: Pick<ChannelSettings, 'slug' | 'root' | 'dkim'>): Channel {
  const where = isAbsolute(folder) ? folder : resolve(settings.root, folder);
  return {
    description: `the outbox (${where})`,
    real: false,
    internationalOk: true,
    async verify() {},
    async deliver(message, options = {}) {
      if (options.ready && !(await options.ready)) throw new AbandonedDelivery();
      const name = `${createHash('sha256').update(options.key ?? message.envelope.to.join(',')).digest('hex').slice(0, 24)}.eml`;
      const file = join(where, settings.slug, name);
      await writeFileAtomic(file, settings.dkim ? await settings.dkim.sign(message) : message.raw);
      return { reply: `written to ${file}` };
    },
    classify(error): Verdict {
      // A full disk or a folder that cannot be written: nothing will be written for anyone.
      return { kind: 'down', reply: `cannot write to the outbox: ${(error as Error).message}` };
    },
    close() {},
    abort() {},
  };
}
