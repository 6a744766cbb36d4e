import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import { parseIssue } from '../issue/load.js';
import { renderIssue, type Edition } from '../render/index.js';
import type { Channel } from '../delivery/channels/index.js';
import { MessageFactory } from '../delivery/message.js';
import { openDelivery, type DeliveryChoice } from '../delivery/routes.js';
import { unsubscribeKey } from '../delivery/unsubscribe.js';
import { readerKey } from '../tracking/token.js';

/**
 * The confirmation a sign-up request gets when the template has no `confirm.md` of its own. The
 * link to confirm is a merge field like any other.
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

interface Messages {
  /** The confirmation's slug, which names its files in an outbox. */
  slug: string;
  confirmation: MessageFactory;
  welcome?: MessageFactory;
}

/**
 * The two messages of a sign-up: the confirmation (rendered as a transactional message from the
 * template's `confirm.md` or the words above) and, when `signup.welcome` names an issue file, the
 * welcome, built like any issue. Both go through the same template, message factory and delivery
 * routes as a send, so they look like the newsletter and carry the same headers and DKIM signature.
 * Built once and kept; the route is opened on first use and opened again after it failed to open.
 */
export class SignupMailer {
  private messages?: Promise<Messages>;
  private channel?: Promise<Channel>;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly delivery: Omit<DeliveryChoice, 'config'> = {},
    private readonly secret = process.env.DIGEST_SECRET,
  ) {}

  /** Builds both messages now, so a broken template is reported at start, not at the first reader. */
  async ready(): Promise<void> {
    await (this.messages ??= this.build());
  }

  /** Sends the confirmation for one request; `confirmUrl` is the link with its token. */
  async send(email: string, name: string | null, confirmUrl: string): Promise<void> {
    const { confirmation } = await (this.messages ??= this.build());
    await this.deliver(confirmation, email, name, `signup:${email.toLowerCase()}`, { confirm_url: confirmUrl }, 'confirmation');
  }

  /** Sends the welcome issue to a reader who has just confirmed (nothing when none is configured). */
  async welcome(email: string, name: string | null): Promise<void> {
    const { welcome } = await (this.messages ??= this.build());
    if (welcome) await this.deliver(welcome, email, name, `welcome:${email.toLowerCase()}`, {}, 'welcome');
  }

  async close(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    if (channel) (await channel.catch(() => undefined))?.close();
  }

  private route(): Promise<Channel> {
    this.channel ??= this.open().catch((error: unknown) => {
      this.channel = undefined;
      throw error;
    });
    return this.channel;
  }

  private async deliver(factory: MessageFactory, email: string, name: string | null, key: string, attributes: Record<string, string>, what: string) {
    const message = factory.build({ email, name, attributes }, key);
    const channel = await this.route();
    try {
      await channel.deliver(message, { key });
    } catch (error) {
      throw new UserError(`the ${what} to a new reader was not sent: ${channel.classify(error).reply}`, { code: `${what}-not-sent`, cause: error });
    }
  }

  private async open(): Promise<Channel> {
    const { slug } = await (this.messages ??= this.build());
    return openDelivery({ ...this.delivery, config: this.config, from: this.from(), slug, concurrency: 2, timeoutMs: this.config.timeout * 1000 });
  }

  private from(): string {
    const from = this.config.from;
    if (!from) throw new UserError('sign-up needs a sender: set from: in the config, or DIGEST_FROM', { code: 'missing-from', file: this.config.file });
    return from;
  }

  private async build(): Promise<Messages> {
    const from = this.from();
    const confirmationFile = join(this.config.templatesDir, this.config.template, 'confirm.md');
    const confirmation = existsSync(confirmationFile)
      ? await this.edition(await readFile(confirmationFile, 'utf8'), confirmationFile, true)
      : await this.edition(CONFIRMATION_SOURCE, 'confirm.md', true);
    const welcomeFile = this.config.signup.welcome ? resolve(this.config.root, this.config.signup.welcome) : undefined;
    let welcome: Edition | undefined;
    if (welcomeFile) {
      const text = await readFile(welcomeFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UserError(`signup.welcome names ${welcomeFile}, which cannot be read (${error.code ?? error.message})`, { file: this.config.file, code: 'welcome-missing' });
      });
      welcome = await this.edition(text, welcomeFile, false);
    }
    const factory = (edition: Edition) =>
      new MessageFactory(edition, {
        from,
        newsletter: this.config.name,
        unsubscribeBase: this.config.unsubscribeUrl ?? 'https://unsubscribe.invalid/unsubscribe',
        unsubscribeMailto: this.config.unsubscribeMailto,
        key: unsubscribeKey(this.secret),
        readerKey: edition.readerLinks ? readerKey(this.secret) : undefined,
      });
    return { slug: confirmation.meta.slug, confirmation: factory(confirmation), welcome: welcome && factory(welcome) };
  }

  private async edition(source: string, file: string, transactional: boolean): Promise<Edition> {
    const edition = await renderIssue(parseIssue(source, file), this.config, undefined, { transactional, secret: this.secret });
    const error = edition.diagnostics.find((diagnostic) => diagnostic.severity === 'error');
    if (error) throw new UserError(`the ${transactional ? 'confirmation' : 'welcome'} message does not build: ${error.message}`, { file: error.file, line: error.line, code: error.code });
    return edition;
  }
}
