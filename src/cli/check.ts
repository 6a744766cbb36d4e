import type { Command } from 'commander';
import { allDiagnostics, diagnosticJson, formatDiagnostic, paint, printJson } from './report.js';

interface CheckFlags {
  json?: boolean;
  strict?: boolean;
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('lint issues without writing anything; exit 1 on any error (with --strict, on any warning)')
    .argument('[files...]', 'issue files to check (default: every issue in issues/)')
    .option('--json', 'print one JSON document with every finding')
    .option('--strict', 'treat warnings as errors')
    .action(async (files: string[], flags: CheckFlags, command: Command) => {
      (await import('../render/compile.js')).prepareMjml();
      const { loadConfig } = await import('../config.js');
      const { buildIssues, issueFiles } = await import('../build.js');
      const config = await loadConfig({ path: command.optsWithGlobals().config });
      const outcomes = await buildIssues(await issueFiles(files, config), config, { write: false });

      const results = outcomes.map((outcome) => {
        const diagnostics = allDiagnostics(outcome);
        return {
          file: outcome.file,
          slug: outcome.slug ?? null,
          errors: diagnostics.filter((d) => d.severity === 'error'),
          warnings: diagnostics.filter((d) => d.severity === 'warning'),
        };
      });
      if (command.optsWithGlobals().debug) {
        for (const outcome of outcomes) if (outcome.error) process.stderr.write(`${outcome.error.stack}\n`);
      }
      const failed = results.some((result) => result.errors.length || (flags.strict && result.warnings.length));

      if (flags.json) {
        printJson({
          issues: results.map((result) => ({
            ...result,
            errors: result.errors.map(diagnosticJson),
            warnings: result.warnings.map(diagnosticJson),
          })),
        });
      } else {
        const out = process.stdout;
        const colour = paint(out);
        for (const result of results) {
          for (const diagnostic of [...result.errors, ...result.warnings]) out.write(`${formatDiagnostic(diagnostic, out)}\n`);
          const verdict = result.errors.length ? colour.red('✗') : result.warnings.length ? colour.yellow('!') : colour.green('✓');
          out.write(`${verdict} ${result.file}: ${count(result.errors.length, 'error')}, ${count(result.warnings.length, 'warning')}\n`);
        }
      }
      if (failed) process.exitCode = 1;
    });
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
