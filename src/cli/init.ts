import type { Command } from 'commander';
import { paint, shortPath } from './report.js';

interface InitFlags {
  name: string;
  from: string;
  address: string;
  language: string;
  baseUrl: string;
  copyTemplate?: boolean;
  force?: boolean;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('scaffold a newsletter: a config file, an issues/ folder with a starter issue')
    .argument('[dir]', 'the folder to set up', '.')
    .option('--name <name>', 'the newsletter name', 'My Newsletter')
    .option('--from <address>', 'the From: of every issue', 'My Newsletter <newsletter@example.org>')
    .option('--address <postal>', 'the postal address for the footer', '1 Example Street, Example Town')
    .option('--language <tag>', 'the language of the issues (en, fr, de-CH…)', 'en')
    .option('--base-url <url>', 'where web versions will be published', 'https://example.org/newsletter')
    .option('--copy-template', 'copy the default template into templates/default to edit it')
    .option('--force', 'overwrite an existing config and starter issue')
    .action(async (dir: string, flags: InitFlags) => {
      const { initProject } = await import('../init.js');
      const written = await initProject(dir, {
        name: flags.name,
        from: flags.from,
        address: flags.address,
        language: flags.language,
        baseUrl: flags.baseUrl,
        copyTemplate: Boolean(flags.copyTemplate),
        force: Boolean(flags.force),
        today: new Date().toISOString().slice(0, 10),
      });
      const colour = paint(process.stdout);
      for (const path of written) process.stdout.write(`${colour.green('created')} ${shortPath(path)}\n`);
      process.stdout.write(`\nNext: edit digest.config.yaml (name, from, address), then run digest check and digest build.\n`);
    });
}
