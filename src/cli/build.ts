import type { Command } from 'commander';
import { allDiagnostics, diagnosticJson, formatDiagnostic, kilobytes, paint, printJson, shortPath } from './report.js';

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
      const { buildIssues, issueFiles } = await import('../build.js');
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
        if (!flags.json) {
          out.write(
            `${paint(out).green('built')} ${outcome.file} → ${shortPath(written!.folder)}/ ` +
              `(email ${kilobytes(Buffer.byteLength(edition!.html))}, text ${kilobytes(Buffer.byteLength(edition!.text))})\n`,
          );
        }
        for (const diagnostic of edition!.diagnostics) out.write(`  ${formatDiagnostic(diagnostic, out)}\n`);
      }

      if (flags.json) {
        printJson({
          issues: outcomes.map((outcome) =>
            outcome.edition
              ? {
                  file: outcome.file,
                  slug: outcome.slug,
                  subject: outcome.edition.subject,
                  preheader: outcome.edition.preheader,
                  html: outcome.written!.html,
                  text: outcome.written!.text,
                  web: outcome.written!.web,
                  htmlBytes: Buffer.byteLength(outcome.edition.html),
                  warnings: outcome.edition.diagnostics.map(diagnosticJson),
                }
              : { file: outcome.file, errors: allDiagnostics(outcome).map(diagnosticJson) },
          ),
        });
      }
      if (outcomes.some((outcome) => outcome.failure)) process.exitCode = 1;
    });
}
