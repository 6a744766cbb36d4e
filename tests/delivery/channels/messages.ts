import { join } from 'node:path';
import { beforeAll } from 'vitest';
import type { ChannelSettings } from '../../../src/delivery/channels/channel.js';
import { MessageFactory, type OutgoingMessage, type Recipient } from '../../../src/delivery/message.js';
import { unsubscribeKey } from '../../../src/delivery/unsubscribe.js';
import { loadIssue } from '../../../src/issue/load.js';
import { renderIssue } from '../../../src/render/index.js';
import { configFor, fixtures, tempProject } from '../../helpers.js';

/** Readers r0@… to r{n-1}@…, each with a name, the first with one that needs quoting. */
export function readers(count: number, domain = 'readers.example'): Recipient[] {
  return Array.from({ length: count }, (_, i) => ({ email: `r${i}@${domain}`, name: i === 0 ? 'Zoë "Z" Ørsted, Jr.' : `Reader ${i}`, attributes: {} }));
}

/**
 * Real messages, built as a send builds them: the fixture issue rendered, a factory over it. The
 * edition is rendered once per test file, before its tests.
 */
export function messageSource(): (recipients: Recipient[]) => OutgoingMessage[] {
  let factory: MessageFactory | undefined;
  const root = tempProject();
  beforeAll(async () => {
    const edition = await renderIssue(await loadIssue(join(fixtures, 'issues', 'complete.md')), await configFor(root));
    factory = new MessageFactory(edition, {
      from: '"Test Gazette" <news@gazette.example>',
      newsletter: 'The Test Gazette',
      unsubscribeBase: 'https://gazette.example/u',
      key: unsubscribeKey('a test secret that is long enough to seal links'),
    });
  });
  return (recipients) => recipients.map((recipient) => factory!.build(recipient, recipient.email));
}

/** Settings for a channel under test: no DKIM, an environment of its own. */
export function channelSettings(overrides: Partial<ChannelSettings> = {}): ChannelSettings {
  return { concurrency: 5, timeoutMs: 5_000, env: {}, slug: 'test-issue', root: '/nonexistent', ...overrides };
}
