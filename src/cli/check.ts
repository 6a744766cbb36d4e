import type { Command } from 'commander';
import type { CheckResult } from '../preflight/index.js';
import { allDiagnostics, diagnosticJson, formatDiagnostic, paint, printJson } from './print.js';

interface CheckFlags {
  json?: boolean;
  strict?: boolean;
  preflight?: boolean;
  offline?: boolean;
  checks?: string;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('lint issues without writing anything; exit 1 on any error (with --strict, on any warning)')
    .argument('[files...]', 'issue files to check (default: every issue in issues/)')
    .option('--json', 'print one JSON document with every finding')
    .option('--strict', 'treat warnings as errors')
    .option('--preflight', 'also check what inboxes will: the sending domain in DNS, links and images, a spam filter score, accessibility in Chromium')
    .option('--offline', 'with --preflight: no network; the DNS and link checks are skipped and say so')
    .option('--checks <ids>', 'with --preflight: only these checks, comma-separated (dns, links, spam, a11y)')
    .addHelpText(
      'after',
      `
The preflight's settings (concurrency, timeouts, the image budget, the cache) are under preflight:
in the config; DIGEST_DNS_SERVERS names DNS servers to ask instead of the system's. See docs/preflight.md.`,
    )
    .action(async (files: string[], flags: CheckFlags, command: Command) => {
      const { UserError } = await import('../errors.js');
      if ((flags.offline || flags.checks) && !flags.preflight) throw new UserError(`${flags.offline ? '--offline' : '--checks'} goes with --preflight`);
      const { checkIds } = await import('../preflight/index.js');
      const only = flags.checks?.split(',').map((id) => id.trim()).filter(Boolean);
      const unknown = only?.find((id) => !checkIds.includes(id));
      if (unknown) throw new UserError(`--checks: no check named "${unknown}" (there are ${checkIds.join(', ')})`);

      (await import('../render/compile.js')).prepareMjml();
      const { loadConfig } = await import('../config.js');
      const { buildIssues, issueFiles } = await import('../build.js');
      const config = await loadConfig({ path: command.optsWithGlobals().config });
      const outcomes = await buildIssues(await issueFiles(files, config), config, { write: false });
      if (flags.preflight) await (await import('../render/compile.js')).releaseMjml();

      const out = process.stdout;
      const colour = paint(out);
      const results = [];
      // Ctrl-C stops the preflight's requests in flight; what was learnt is kept in its cache.
      const stop = new AbortController();
      const interrupt = () => (stop.signal.aborted ? process.exit(130) : stop.abort());
      if (flags.preflight) process.on('SIGINT', interrupt);
      for (const outcome of outcomes) {
        const diagnostics = allDiagnostics(outcome);
        let preflight: CheckResult[] | undefined;
        if (flags.preflight && outcome.edition) {
          const { preflightEdition } = await import('../preflight/issue.js');
          const progress = flags.json ? undefined : (result: CheckResult) => out.write(`${colour.dim(`  ${outcome.file}: ${describe(result)}`)}\n`);
          const found = await preflightEdition(outcome.file, outcome.edition, config, { offline: flags.offline, only, onResult: progress, signal: stop.signal });
          preflight = found.results;
          diagnostics.push(...found.errors, ...found.warnings);
        }
        results.push({
          file: outcome.file,
          slug: outcome.slug ?? null,
          errors: diagnostics.filter((d) => d.severity === 'error'),
          warnings: diagnostics.filter((d) => d.severity === 'warning'),
          preflight,
        });
      }
      process.off('SIGINT', interrupt);
      if (stop.signal.aborted) process.exitCode = 130;
      if (command.optsWithGlobals().debug) {
        for (const outcome of outcomes) if (outcome.error) process.stderr.write(`${outcome.error.stack}\n`);
      }
      const failed = results.some((result) => result.errors.length || (flags.strict && result.warnings.length));

      if (flags.json) {
        printJson({
          issues: results.map((result) => ({
            file: result.file,
            slug: result.slug,
            // A finding about another file (the config, for the sending domain) says which.
            errors: result.errors.map((d) => ({ ...diagnosticJson(d), ...(d.file !== result.file && { file: d.file }) })),
            warnings: result.warnings.map((d) => ({ ...diagnosticJson(d), ...(d.file !== result.file && { file: d.file }) })),
            ...(result.preflight && {
              preflight: result.preflight.map(({ check, skipped, notes, ms, diagnostics }) => ({
                check,
                ran: !skipped,
                ...(skipped && { skipped }),
                errors: diagnostics.filter((d) => d.severity === 'error').length,
                warnings: diagnostics.filter((d) => d.severity === 'warning').length,
                notes: notes ?? [],
                ms,
              })),
            }),
          })),
        });
      } else {
        for (const result of results) {
          for (const diagnostic of [...result.errors, ...result.warnings]) out.write(`${formatDiagnostic(diagnostic, out)}\n`);
          for (const check of result.preflight ?? []) for (const note of check.notes ?? []) out.write(`${colour.dim(`  ${check.check}: ${note}`)}\n`);
          const verdict = result.errors.length ? colour.red('✗') : result.warnings.length ? colour.yellow('!') : colour.green('✓');
          const skipped = (result.preflight ?? []).filter((check) => check.skipped).map((check) => `${check.check} skipped (${check.skipped})`);
          out.write(`${verdict} ${result.file}: ${count(result.errors.length, 'error')}, ${count(result.warnings.length, 'warning')}${skipped.length ? `; ${skipped.join(', ')}` : ''}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    });
}

function describe(result: CheckResult): string {
  if (result.skipped) return `${result.check} skipped: ${result.skipped}`;
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = result.diagnostics.length - errors;
  return `${result.check}: ${count(errors, 'error')}, ${count(warnings, 'warning')} (${result.ms} ms)`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
