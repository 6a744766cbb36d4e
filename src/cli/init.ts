import type { Command } from 'commander';
import { paint, shortPath } from './print.js';

interface InitFlags {
  name: string;
  from: string;
  address: string;
  language: string;
  baseUrl: string;
  copyTemplate?: boolean;
  force?: boolean;
  yes?: boolean;
}

/** What init asks on a terminal, in order, for each setting not given as a flag. */
const questions = [
  { key: 'name', flag: 'name', prompt: 'Newsletter name' },
  { key: 'from', flag: 'from', prompt: 'From (Name <address>)', check: (value: string) => (/<?[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>?$/.test(value) ? undefined : 'needs an email address, as Name <news@example.org>') },
  { key: 'address', flag: 'address', prompt: 'Postal address for the footer' },
  { key: 'language', flag: 'language', prompt: 'Language of the issues (en, fr, de-CH…)', check: (value: string) => (/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/.test(value) ? undefined : 'needs a language tag, as en or pt-BR') },
  { key: 'baseUrl', flag: 'baseUrl', prompt: 'Where web versions will be published (https://…)', check: (value: string) => (/^https?:\/\/[^\s/]+/.test(value) ? undefined : 'needs an http(s) URL') },
] as const;

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
    .option('-y, --yes', 'ask nothing, even on a terminal: flags and defaults only')
    .action(async (dir: string, flags: InitFlags, command: Command) => {
      // On a terminal, the settings not given as flags are asked for, each offering its default.
      if (!flags.yes && process.stdin.isTTY && process.stdout.isTTY && !process.env.CI) await ask(flags, command);
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

async function ask(flags: InitFlags, command: Command): Promise<void> {
  const { createInterface } = await import('node:readline/promises');
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    for (const question of questions) {
      if (command.getOptionValueSource(question.flag) === 'cli') continue;
      for (;;) {
        const answer = (await prompt.question(`${question.prompt} [${flags[question.key]}]: `)).trim() || flags[question.key];
        const problem = 'check' in question ? question.check(answer) : undefined;
        if (!problem) {
          flags[question.key] = answer;
          break;
        }
        process.stdout.write(`  ${problem}\n`);
      }
    }
    if (command.getOptionValueSource('copyTemplate') !== 'cli') {
      flags.copyTemplate = /^y(es)?$/i.test((await prompt.question('Copy the default template into templates/default to edit it? [y/N]: ')).trim());
    }
  } finally {
    prompt.close();
  }
}
