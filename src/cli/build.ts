import type { Command } from 'commander';
import type { BuildOutcome } from '../build.js';
import type { Diagnostic } from '../issue/diagnostic.js';
import { diagnosticJson, formatDiagnostic, kilobytes, paint, printJson, shortPath } from './print.js';

interface BuildFlags {
  out?: string;
  json?: boolean;
}

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('build issues into email HTML, plain text and a web version (default: every issue in issues/)')
    .argument('[files...]', 'issue files to build')
    .option('-o, --out <dir>', 'where to write the outputs (default: build/, or outDir in the config)')
    .option('--json', 'print one JSON document describing the outputs')
    .action(async (files: string[], flags: BuildFlags, command: Command) => {
      const { prepareMjml, releaseMjml } = await import('../render/compile.js');
      prepareMjml();
      const { loadConfig } = await import('../config.js');
      const { blocking, buildIssues, issueFiles } = await import('../build.js');
      const { resolve } = await import('node:path');
      const config = await loadConfig({ path: command.optsWithGlobals().config });
      const outcomes = await buildIssues(await issueFiles(files, config), config, {
        write: true,
        outDir: flags.out ? resolve(flags.out) : undefined,
        // The worker's shutdown then overlaps the writing, instead of following it at exit.
        rendered: () => void releaseMjml(),
      });

      const out = flags.json ? process.stderr : process.stdout;
      for (const outcome of outcomes) {
        if (outcome.failure) {
          process.stderr.write(`digest: ${formatDiagnostic(outcome.failure, process.stderr)}\n`);
          if (command.optsWithGlobals().debug) process.stderr.write(`${outcome.error?.stack}\n`);
          continue;
        }
        const { edition, written } = outcome;
        if (!written) {
          // Rendered but not written, for an error diagnostic: reported as a failure is, one line each.
          for (const diagnostic of edition!.diagnostics) process.stderr.write(`digest: ${formatDiagnostic(diagnostic, process.stderr)}\n`);
          continue;
        }
        if (!flags.json) {
          out.write(
            `${paint(out).green('built')} ${outcome.file} → ${shortPath(written.folder)}/ ` +
              `(email ${kilobytes(Buffer.byteLength(edition!.html))}, text ${kilobytes(Buffer.byteLength(edition!.text))})\n`,
          );
        }
        for (const diagnostic of edition!.diagnostics) out.write(`  ${formatDiagnostic(diagnostic, out)}\n`);
      }

      if (flags.json) printJson({ issues: outcomes.map((outcome) => issueJson(outcome, blocking(outcome))) });
      if (outcomes.some((outcome) => blocking(outcome).length)) process.exitCode = 1;
    });
}

/** One issue in --json: where its outputs were written or, when nothing was, what stopped it. */
function issueJson(outcome: BuildOutcome, errors: Diagnostic[]) {
  const { file, slug, edition, written } = outcome;
  if (!edition) return { file, errors: errors.map(diagnosticJson) };
  if (!written) {
    const warnings = edition.diagnostics.filter((diagnostic) => diagnostic.severity === 'warning');
    return { file, slug, errors: errors.map(diagnosticJson), warnings: warnings.map(diagnosticJson) };
  }
  return {
    file,
    slug,
    subject: edition.subject,
    preheader: edition.preheader,
    html: written.html,
    text: written.text,
    web: written.web,
    htmlBytes: Buffer.byteLength(edition.html),
    warnings: edition.diagnostics.map(diagnosticJson),
  };
}
