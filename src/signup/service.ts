import type { SubscriberStore } from '../audience/store.js';
import type { ResolvedConfig } from '../config.js';
import type { DeliveryChoice } from '../delivery/routes.js';
import { SignupLedger, signupKey } from './ledger.js';
import { SignupMailer } from './mailer.js';

/** What `digest serve`'s sign-up routes use: the ledger, and the mail that goes with it. */
export interface SignupService {
  ledger: SignupLedger;
  mailer: Pick<SignupMailer, 'send' | 'welcome'>;
}

export interface RunningSignup extends SignupService {
  /** Stops the purge and closes the mail route. */
  close(): Promise<void>;
}

const HOUR = 60 * 60_000;

/**
 * Sign-up as `digest serve` runs it: the ledger over the subscriber database, the mailer built from
 * the template (at start, so a broken confirm.md or welcome issue stops the server with its line),
 * and, every hour and at start, the purge of requests never confirmed within the link's life:
 * those addresses were never given for more than that.
 */
export async function startSignup(
  config: ResolvedConfig,
  store: SubscriberStore,
  options: { secret?: string; delivery?: Omit<DeliveryChoice, 'config'>; log?: (entry: Record<string, unknown>) => void; purgeEveryMs?: number } = {},
): Promise<RunningSignup> {
  const secret = options.secret ?? process.env.DIGEST_SECRET;
  const ledger = new SignupLedger(store, signupKey(secret), { ttlMs: config.signup.tokenDays * 24 * HOUR, tags: config.signup.tags });
  const mailer = new SignupMailer(config, options.delivery, secret);
  await mailer.ready();
  const purge = async () => {
    try {
      const purged = await ledger.purge();
      if (purged) options.log?.({ time: new Date().toISOString(), level: 'info', msg: 'signup', outcome: 'purged', requests: purged });
    } catch (error) {
      options.log?.({ time: new Date().toISOString(), level: 'error', msg: 'purge of unconfirmed sign-ups failed', error: (error as Error).message });
    }
  };
  let purging = purge();
  const timer = setInterval(() => {
    purging = purging.then(purge);
  }, options.purgeEveryMs ?? HOUR);
  timer.unref();
  return {
    ledger,
    mailer,
    async close() {
      clearInterval(timer);
      await purging;
      await mailer.close();
    },
  };
}
