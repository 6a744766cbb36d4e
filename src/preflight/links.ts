import type { PreflightCheck } from './check.js';

/** Placeholder: replaced by the link and image check. */
export const linksCheck: PreflightCheck = { id: 'links', title: 'links and images', network: true, cheap: false, run: async () => ({ check: 'links', diagnostics: [], skipped: 'not built yet' }) };
