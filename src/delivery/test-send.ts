import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { Edition } from '../render/index.js';
import { compileMerge, type Reader } from '../render/merge.js';
import type { Transport } from './transport.js';

/**
 * Sends an issue to the editor's test addresses, marked as a test in the subject, merged for a
 * sample reader. Nothing is recorded: a test send never counts as delivery to anyone.
 */
export async function sendTest(edition: Edition, config: ResolvedConfig, options: { to: string[]; reader: Reader['subscriber']; transport: Transport }) {
  if (!config.from) throw new UserError('no sender: set from: in the config, or DIGEST_FROM', { code: 'missing-from' });
  if (!options.to.length) throw new UserError('no test addresses: set testAddresses: in the config', { code: 'missing-test-addresses' });
  const reader: Reader = { subscriber: options.reader, unsubscribe_url: `${unsubscribeBase(config)}?test=1` };
  const html = compileMerge(edition.html)(reader);
  const text = compileMerge(edition.text, 'text')(reader);
  const subject = `[TEST] ${compileMerge(edition.subject, 'text')(reader)}`;
  const results = [];
  for (const to of options.to) {
    results.push({ to, ...(await options.transport.send({ from: config.from, to, subject, html, text, headers: { 'X-Digest-Test': 'yes' } })) });
  }
  return results;
}

function unsubscribeBase(config: ResolvedConfig): string {
  return process.env.DIGEST_UNSUBSCRIBE_URL ?? `${(config.baseUrl ?? 'https://example.invalid').replace(/\/+$/, '')}/unsubscribe`;
}
