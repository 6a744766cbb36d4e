import { randomBytes } from 'node:crypto';
import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { Edition } from '../render/index.js';
import type { Channel } from './channels/index.js';
import { MessageFactory, type Recipient } from './message.js';
import { unsubscribeKey } from './unsubscribe.js';
import { readerKey } from '../tracking/token.js';

/**
 * Sends an issue to the editor's test addresses, subject marked [TEST], built by the same factory
 * and delivered through the same channel as a real send: the same headers (List-Unsubscribe and
 * its one-click pair) and the same DKIM signature. Merged for a sample reader when one is given.
 * Nothing is recorded: a test send never counts as delivery to anyone.
 */
export async function sendTests(
  edition: Edition,
  options: { from: string; config: ResolvedConfig; to: string[]; channel: Channel; reader?: Pick<Recipient, 'name' | 'attributes'> },
): Promise<{ to: string; reply: string }[]> {
  if (!options.to.length) throw new UserError('no test addresses: set testAddresses: in the config', { code: 'missing-test-addresses' });
  const secret = process.env.DIGEST_SECRET;
  const factory = new MessageFactory(edition, {
    from: options.from,
    newsletter: options.config.name,
    unsubscribeBase: options.config.unsubscribeUrl ?? 'https://unsubscribe.invalid/unsubscribe',
    unsubscribeMailto: options.config.unsubscribeMailto,
    // A test's link must not unsubscribe anyone real: without the secret it is sealed with a throwaway key.
    key: unsubscribeKey(secret ?? randomBytes(32).toString('hex')),
    // Nor a test's clicks be recorded as a reader's: its reader token never opens (the aggregate still counts them).
    readerKey: readerKey(randomBytes(32).toString('hex')),
    test: true,
  });
  const sent = [];
  for (const to of options.to) {
    const key = `test:${to}`;
    const message = factory.build({ email: to, name: options.reader?.name ?? null, attributes: options.reader?.attributes ?? {} }, key);
    try {
      const { reply } = await options.channel.deliver(message, { key });
      sent.push({ to, reply });
    } catch (error) {
      const verdict = options.channel.classify(error);
      throw new UserError(`the test message to ${to} was not sent: ${verdict.reply}`, { code: 'test-send-failed', cause: error });
    }
  }
  return sent;
}
