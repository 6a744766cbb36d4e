import type { SubscriberStore } from '../audience/store.js';
import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import { SignupLedger, signupKey } from './ledger.js';
import { SignupMailer } from './mailer.js';

export type InviteOutcome = 'mailed' | 'already-subscribed' | 'recently-mailed';

/**
 * The editor's way back for someone who left and asked to return (`subscribers add --resubscribe`):
 * not a change to the list but the same confirmation a sign-up gets. They are back only once they
 * press its button on `digest serve`; nobody is put back on the list by someone else's say-so.
 */
export async function inviteBack(config: ResolvedConfig, store: SubscriberStore, email: string, name: string | null, secret = process.env.DIGEST_SECRET): Promise<InviteOutcome> {
  if (!config.signup.enabled || !config.baseUrl) {
    throw new UserError(
      `${email} left the list, and only they can bring themselves back by confirming: set signup.enabled (and baseUrl) in the config and run digest serve, then --resubscribe mails them the link`,
      { code: 'signup-disabled', file: config.file },
    );
  }
  const ledger = new SignupLedger(store, signupKey(secret), { ttlMs: config.signup.tokenDays * 24 * 60 * 60_000, tags: config.signup.tags });
  const outcome = await ledger.request({ email, name, source: 'invited by an editor', consentVersion: config.signup.consentVersion });
  if (outcome.kind === 'quiet') return outcome.why === 'subscribed' ? 'already-subscribed' : 'recently-mailed';
  const mailer = new SignupMailer(config, {}, secret);
  try {
    await mailer.send(outcome.email, name, `${config.baseUrl.replace(/\/+$/, '')}/confirm?token=${encodeURIComponent(outcome.token)}`);
  } finally {
    await mailer.close();
  }
  return 'mailed';
}
