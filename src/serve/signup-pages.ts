import type { ResolvedConfig } from '../config.js';
import { escapeHtml as h } from '../escape.js';
import type { BuiltEdition } from '../archive/editions.js';
import { issuePath, longDate } from '../archive/pages.js';
import { signupForm } from '../signup/form.js';
import { maskAddress, page } from './pages.js';
import { labelsFor } from '../render/labels.js';

/**
 * The sign-up form: works without JavaScript, labelled fields, the consent text beside the button,
 * and below it the newest issues from the archive, so a visitor can see what they sign up for.
 */
export function subscribePage(config: ResolvedConfig, action: string, latest: BuiltEdition[] = [], problem?: string): string {
  const issues = latest.length
    ? `
    <section class="latest" aria-labelledby="latest">
      <h2 id="latest">Latest issues</h2>
      <ul>
${latest.map((edition) => `        <li><a href="${h(issuePath(edition.slug))}">${h(edition.title)}</a> <time datetime="${h(edition.date)}">${h(longDate(edition.date, config.language))}</time></li>`).join('\n')}
      </ul>
    </section>`
    : '';
  return page(
    config,
    `Subscribe to ${config.name}`,
    `${config.tagline ? `    <p>${h(config.tagline)}</p>\n` : ''}${problem ? `    <p class="problem" role="alert">${h(problem)}</p>\n` : ''}${signupForm({
      action,
      consent: config.signup.consent,
      button: labelsFor(config.language, config.labels).subscribeButton,
      invalid: Boolean(problem),
    })}${issues}`,
  );
}

export function signupDonePage(config: ResolvedConfig): string {
  return page(config, 'Check your inbox', `    <p>We have sent a link to confirm your subscription to ${h(config.name)}. Nothing is sent to you until you open it and press the button.</p>`);
}

/** What the link in the confirmation shows: one button; the GET itself changes nothing. */
export function confirmSignupPage(config: ResolvedConfig, email: string, token: string): string {
  return page(
    config,
    `Confirm your subscription`,
    `    <p>Send ${h(config.name)} to <span class="address">${h(maskAddress(email))}</span>?</p>
    <form method="post">
      <input type="hidden" name="token" value="${h(token)}">
      <button type="submit">Yes, subscribe me</button>
    </form>`,
  );
}

const linkWords = {
  done: ['You are subscribed', (name: string) => `Thank you: the next issue of ${name} is on its way to you.`],
  already: ['Already confirmed', (name: string) => `This link has been used already; nothing was changed. To join ${name} again, sign up once more.`],
  expired: ['This link has expired', (name: string) => `Confirmation links work for a few days. Sign up for ${name} again to get a new one.`],
  invalid: ['This link is not valid', (name: string) => `The link may have been cut short or changed on its way here. Sign up for ${name} again to get a new one.`],
} as const;

export function signupLinkPage(config: ResolvedConfig, kind: keyof typeof linkWords): string {
  const [title, text] = linkWords[kind];
  return page(config, title, `    <p>${h(text(config.name))}</p>`);
}
