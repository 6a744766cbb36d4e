import type { ResolvedConfig } from '../config.js';
import type { Diagnostic } from '../issue/diagnostic.js';
import type { IssueSource } from '../issue/load.js';
import type { Edition } from '../render/index.js';

/**
 * What every preflight check is given: the issue as the editor wrote it (for lines), the edition as
 * `send` would deliver it, and the config. A check never renders again and never writes to the list.
 */
export interface PreflightContext {
  issue: IssueSource;
  /** The issue file's whole text, for mapping a finding back to the line it came from (source-lines.ts). */
  source: string;
  edition: Edition;
  config: ResolvedConfig;
  /** No network at all: every check that needs it is skipped and says so. */
  offline: boolean;
  /** Where network answers are kept between runs (links, images), so that a rerun is cheap. */
  cacheDir: string;
  /** DNS servers to ask instead of the system's (`DIGEST_DNS_SERVERS`, `host[:port]` separated by spaces or commas). */
  dnsServers?: string[];
  signal?: AbortSignal;
}

/** What one check found, or why it did not run. */
export interface CheckResult {
  /** The check's id: `dns`, `links`, `spam`, `a11y`. */
  check: string;
  /** Findings in the same shape as lint's, with stable `code` slugs and the issue's line where known. */
  diagnostics: Diagnostic[];
  /** Set when the check did not run: `offline`, `spamassassin is not installed`… Said, never silent. */
  skipped?: string;
  /** Facts worth showing that are not faults (image sizes, the spam score): one line each. */
  notes?: string[];
  ms?: number;
}

export interface PreflightCheck {
  id: string;
  /** One line for --help and the preview: what it looks at. */
  title: string;
  run(context: PreflightContext): Promise<CheckResult>;
}
