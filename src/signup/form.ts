import { escapeHtml as h } from '../escape.js';

/** The field people cannot see and bots fill in: a request with it set is answered and dropped. */
export const HONEYPOT = 'website';

export interface FormOptions {
  /** Where it posts: `<baseUrl>/subscribe`, or the path on the subscribe page itself. */
  action: string;
  consent: string;
  button: string;
  /** The address was refused: marked for assistive technology beside the message. */
  invalid?: boolean;
}

/**
 * The sign-up form, one for the subscribe page and for the snippet `digest init` writes to paste
 * into a publisher's own site: plain HTML that works without JavaScript, each field labelled, the
 * consent text beside the button, and the honeypot kept out of sight and out of the tab order.
 */
export function signupForm(options: FormOptions, indent = '    '): string {
  return [
    `<form method="post" action="${h(options.action)}" class="digest-signup">`,
    `  <label for="email">Email address</label>`,
    `  <input id="email" name="email" type="email" autocomplete="email" required${options.invalid ? ' aria-invalid="true"' : ''}>`,
    `  <label for="name">Name <span>(optional)</span></label>`,
    `  <input id="name" name="name" type="text" autocomplete="name">`,
    `  <div class="trap" aria-hidden="true" style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden"><label for="${HONEYPOT}">Leave this empty</label><input id="${HONEYPOT}" name="${HONEYPOT}" type="text" tabindex="-1" autocomplete="off"></div>`,
    `  <p class="consent">${h(options.consent)}</p>`,
    `  <button type="submit">${h(options.button)}</button>`,
    `</form>`,
  ]
    .map((line) => indent + line)
    .join('\n');
}
