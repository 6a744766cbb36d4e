import { join } from 'node:path';
import type { ResolvedConfig } from '../config.js';
import type { Diagnostic } from '../issue/diagnostic.js';
import { parseIssue, readText } from '../issue/load.js';
import type { Edition } from '../render/index.js';
import { dnsServersFrom, runPreflight, type CheckResult, type PreflightOptions } from './index.js';

export interface IssuePreflight {
  /** Every check's result, skipped ones included, in the order they ran. */
  results: CheckResult[];
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

/**
 * The preflight of one built issue: its file read again for the lines findings point to, network
 * answers cached under the build folder, DNS servers from DIGEST_DNS_SERVERS.
 */
export async function preflightEdition(
  file: string,
  edition: Edition,
  config: ResolvedConfig,
  options: PreflightOptions & { offline?: boolean; signal?: AbortSignal } = {},
): Promise<IssuePreflight> {
  const source = await readText(file, 'issue');
  const results = await runPreflight(
    {
      issue: parseIssue(source, file),
      source,
      edition,
      config,
      offline: Boolean(options.offline),
      cacheDir: preflightCache(config),
      dnsServers: dnsServersFrom(),
      signal: options.signal,
    },
    options,
  );
  const found = results.flatMap((result) => result.diagnostics);
  return { results, errors: found.filter((d) => d.severity === 'error'), warnings: found.filter((d) => d.severity === 'warning') };
}

/** Beside the built issues, which are generated too: deleting the build folder forgets them. */
export function preflightCache(config: ResolvedConfig): string {
  return join(config.outDir, '.cache', 'preflight');
}
