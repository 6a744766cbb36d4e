import type { PreflightCheck } from './check.js';

/** Placeholder: replaced by the SpamAssassin check. */
export const spamCheck: PreflightCheck = { id: 'spam', title: 'spam filter score', network: false, cheap: false, run: async () => ({ check: 'spam', diagnostics: [], skipped: 'not built yet' }) };
