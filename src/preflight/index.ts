import type { PreflightCheck, PreflightContext, CheckResult } from './check.js';

export type { CheckResult, PreflightCheck, PreflightContext } from './check.js';

/**
 * The preflight, in order: what inboxes will check, outside the issue's own text (lint has that).
 *   1. dns    the sending domain: SPF, DKIM key against ours, DMARC and its alignment, MX, bounce domain
 *   2. links  every URL fetched (bounded, cached); images' bytes and dimensions against a budget
 *   3. spam   SpamAssassin's score of the message as send builds it, with the rules hit
 *   4. a11y   axe-core in Chromium at 375 and 600 px, light and dark
 * Each is a file of its own exporting one PreflightCheck; they are loaded only when run, so that
 * `digest send`'s cheap checks do not load a browser driver.
 */
const loaders: Record<string, () => Promise<PreflightCheck>> = {
  dns: async () => (await import('./dns.js')).dnsCheck,
  links: async () => (await import('./links.js')).linksCheck,
  spam: async () => (await import('./spam.js')).spamCheck,
  a11y: async () => (await import('./a11y.js')).a11yCheck,
};

export const checkIds = Object.keys(loaders);

export interface PreflightOptions {
  /** Only these checks (default: all). */
  only?: string[];
  /** Only those `digest send` runs before every send: cheap ones. */
  cheapOnly?: boolean;
  /** Told as each check finishes (the preview shows them as they come). */
  onResult?: (result: CheckResult) => void;
}

/** Runs the checks one after another (each bounds its own concurrency) and gives every result, skipped ones included. */
export async function runPreflight(context: PreflightContext, options: PreflightOptions = {}): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const id of options.only ?? checkIds) {
    const load = loaders[id];
    if (!load) throw new Error(`no preflight check named ${id}`);
    const check = await load();
    if (options.cheapOnly && !check.cheap) continue;
    const started = performance.now();
    let result: CheckResult;
    if (check.network && context.offline) {
      result = { check: check.id, diagnostics: [], skipped: 'offline' };
    } else {
      result = await check.run(context);
    }
    result.ms ??= Math.round(performance.now() - started);
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}

/** `DIGEST_DNS_SERVERS=127.0.0.1:5353` → ['127.0.0.1:5353'] */
export function dnsServersFrom(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const value = env.DIGEST_DNS_SERVERS?.trim();
  return value ? value.split(/[\s,]+/).filter(Boolean) : undefined;
}
