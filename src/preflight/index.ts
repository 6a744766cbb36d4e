import type { PreflightCheck, PreflightContext, CheckResult } from './check.js';

export type { CheckResult, PreflightCheck, PreflightContext } from './check.js';

/**
 * The preflight, in order: what inboxes will check, outside the issue's own text (lint has that).
 *   1. dns    the sending domain: SPF, DKIM key against ours, DMARC and its alignment, MX, bounce domain
 *   2. links  every URL fetched (bounded, cached); images' bytes and dimensions against a budget
 *   3. spam   SpamAssassin's score of the message as send builds it, with the rules hit
 *   4. a11y   axe-core in Chromium at 375 and 600 px, light and dark
 * Each is a file of its own exporting one PreflightCheck, loaded only when it runs.
 */
interface Entry {
  id: string;
  /** Needs the network (DNS, HTTP): skipped with --offline. */
  network: boolean;
  /** Cheap enough for `digest send` to run before every real send (a few DNS lookups, no browser). */
  cheap: boolean;
  load: () => Promise<PreflightCheck>;
}

// What each check needs is said here, not in its module, so that a send running only the cheap
// ones never loads the others (an HTML parser, an image reader, a browser driver).
const checks: Entry[] = [
  { id: 'dns', network: true, cheap: true, load: async () => (await import('./dns.js')).dnsCheck },
  { id: 'links', network: true, cheap: false, load: async () => (await import('./links.js')).linksCheck },
  { id: 'spam', network: false, cheap: false, load: async () => (await import('./spam.js')).spamCheck },
  { id: 'a11y', network: false, cheap: false, load: async () => (await import('./a11y.js')).a11yCheck },
];

export const checkIds = checks.map((entry) => entry.id);

/** Whether a check needs the network, and whether send runs it. */
export function checkEntry(id: string): Omit<Entry, 'load'> | undefined {
  const entry = checks.find((candidate) => candidate.id === id);
  return entry && { id: entry.id, network: entry.network, cheap: entry.cheap };
}

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
    const entry = checks.find((candidate) => candidate.id === id);
    if (!entry) throw new Error(`no preflight check named ${id}`);
    if (options.cheapOnly && !entry.cheap) continue;
    const started = performance.now();
    let result: CheckResult;
    if (entry.network && context.offline) {
      result = { check: entry.id, diagnostics: [], skipped: 'offline' };
    } else {
      result = await (await entry.load()).run(context);
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
