import type { PreflightCheck } from './check.js';

/** Placeholder: replaced by the axe-core check in Chromium. */
export const a11yCheck: PreflightCheck = { id: 'a11y', title: 'accessibility', network: false, cheap: false, run: async () => ({ check: 'a11y', diagnostics: [], skipped: 'not built yet' }) };
