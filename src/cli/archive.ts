import type { Command } from 'commander';
import { paint, printJson, shortPath } from './print.js';

interface ArchiveFlags {
  out?: string;
  json?: boolean;
}

/** `digest archive`: the static web archive of every built issue, from what `digest build` wrote. */
export function registerArchive(program: Command): void {
  program
    .command('archive')
    .description('write the web archive of the built issues: an index, each issue’s web version and an Atom feed, for any static host')
    .option('-o, --out <dir>', 'the folder to write the site to (default: site/ beside the config)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: ArchiveFlags, command: Command) => {
      const [{ loadConfig }, { writeArchive }, { resolve }] = await Promise.all([import('../config.js'), import('../archive/index.js'), import('node:path')]);
      const config = await loadConfig({ path: command.optsWithGlobals().config });
      const out = flags.out ? resolve(flags.out) : resolve(config.root, 'site');
      const result = await writeArchive(config, { out });
      if (flags.json) {
        printJson(result);
        return;
      }
      const err = process.stderr;
      const colour = paint(err);
      for (const warning of result.warnings) err.write(`digest: ${colour.yellow('warning')} ${warning}\n`);
      for (const held of result.held) err.write(`digest: ${colour.dim('held')} ${held.slug} until ${held.publishedAt} (its send_at)\n`);
      if (!result.issues.length) err.write(`digest: ${colour.yellow('warning')} no built issues to publish in ${shortPath(config.outDir)}: run digest build first\n`);
      process.stdout.write(
        `${colour.green('archived')} ${result.issues.length} issue${result.issues.length === 1 ? '' : 's'} to ${shortPath(out)}: ` +
          `${result.written.length} written, ${result.unchanged} unchanged, ${result.removed.length} removed\n`,
      );
    });
}
