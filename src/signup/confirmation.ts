import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import { parseIssue } from '../issue/load.js';
import { renderIssue, type Edition } from '../render/index.js';
import type { Channel } from '../delivery/channels/index.js';
import { MessageFactory } from '../delivery/message.js';
import { openDelivery, type DeliveryChoice } from '../delivery/routes.js';
import { unsubscribeKey } from '../delivery/unsubscribe.js';

/**
 * The confirmation a sign-up request gets: rendered once from the template's `confirm.md` (or the
 * words below), through the same template, message factory and delivery routes as an issue, so it
 * looks like the newsletter and carries the same headers and DKIM signature. The link to confirm
 * is a merge field like any other.
 */
export const CONFIRMATION_SOURCE = `---
title: Please confirm your subscription
date: 2000-01-01
slug: confirm-subscription
subject: "Confirm your subscription"
preheader: One click and the next issue is on its way to you.
---
Someone, we hope you, asked for this newsletter to be sent to this address.

::button[Yes, send me the newsletter]{href="{{subscriber.attributes.confirm_url}}"}

If that was not you, there is nothing to do: without a click on the button, this address gets nothing more from us.
`;

export class ConfirmationMailer {
  private prepared?: Promise<{ factory: MessageFactory; channel: Channel }>;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly delivery: Omit<DeliveryChoice, 'config'> = {},
    private readonly secret = process.env.DIGEST_SECRET,
  ) {}

  /** Sends the confirmation for one request; the link is `confirmBase?token=…`. */
  async send(email: string, name: string | null, confirmUrl: string): Promise<void> {
    const { factory, channel } = await (this.prepared ??= this.prepare());
    const key = `signup:${email.toLowerCase()}`;
    const message = factory.build({ email, name, attributes: { confirm_url: confirmUrl } }, key);
    try {
      await channel.deliver(message, { key });
    } catch (error) {
      throw new UserError(`the confirmation to a new reader was not sent: ${channel.classify(error).reply}`, { code: 'confirmation-not-sent', cause: error });
    }
  }

  async close(): Promise<void> {
    const prepared = this.prepared;
    this.prepared = undefined;
    if (prepared) (await prepared.catch(() => undefined))?.channel.close();
  }

  private async prepare(): Promise<{ factory: MessageFactory; channel: Channel }> {
    const from = this.config.from;
    if (!from) throw new UserError('sign-up needs a sender: set from: in the config, or DIGEST_FROM', { code: 'missing-from' });
    const edition = await this.edition();
    const factory = new MessageFactory(edition, {
      from,
      newsletter: this.config.name,
      unsubscribeBase: this.config.unsubscribeUrl ?? 'https://unsubscribe.invalid/unsubscribe',
      unsubscribeMailto: this.config.unsubscribeMailto,
      key: unsubscribeKey(this.secret),
    });
    const channel = await openDelivery({ ...this.delivery, config: this.config, from, slug: edition.meta.slug, concurrency: 2, timeoutMs: this.config.timeout * 1000 });
    return { factory, channel };
  }

  private async edition(): Promise<Edition> {
    const file = join(this.config.templatesDir, this.config.template, 'confirm.md');
    const source = existsSync(file) ? await readFile(file, 'utf8') : CONFIRMATION_SOURCE;
    const edition = await renderIssue(parseIssue(source, existsSync(file) ? file : 'confirm.md'), this.config, undefined, { transactional: true });
    const error = edition.diagnostics.find((diagnostic) => diagnostic.severity === 'error');
    if (error) throw new UserError(`the confirmation message does not build: ${error.message}`, { file: error.file, line: error.line, code: error.code });
    return edition;
  }
}
