import type { PreflightCheck } from './check.js';

/** Placeholder: replaced by the DNS check (SPF, DKIM, DMARC, MX). */
export const dnsCheck: PreflightCheck = { id: 'dns', title: 'the sending domain in DNS', network: true, cheap: true, run: async () => ({ check: 'dns', diagnostics: [], skipped: 'not built yet' }) };
