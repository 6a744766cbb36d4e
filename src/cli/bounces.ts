import type { Command } from 'commander';
import { paint, printJson, visible } from './report.js';

interface ReadFlags {
  db?: string;
  json?: boolean;
  dryRun?: boolean;
}

/** `digest bounces read`: the reports that come back after a send (docs/bounces.md). */
export function registerBounces(program: Command): void {
  const group = program.command('bounces').description('bounces and complaints that come back after a send: read them into the list');

  group
    .command('read')
    .description('read bounce reports (DSN), complaints (ARF) and bounces from .eml or mbox files, a folder of them, or standard input (-)')
    .argument('<source>', 'a file, a folder, or - for standard input (as an MTA pipes one message)')
    .option('--db <url>', 'the subscriber database (default: $DIGEST_DATABASE_URL, else sqlite:./digest.db)')
    .option('--dry-run', 'classify and match every report, change nothing')
    .option('--json', 'print one JSON document: every report with its recipient, classification, code, diagnostic and what was done')
    .action(async (source: string, flags: ReadFlags, command: Command) => {
      const [{ openStore }, { databaseUrl }, { loadConfig }, { processReports }, { reportSources }] = await Promise.all([
        import('../audience/open.js'),
        import('../audience/location.js'),
        import('../config.js'),
        import('../bounces/index.js'),
        import('../bounces/sources.js'),
      ]);
      const config = await loadConfig({ path: command.optsWithGlobals().config });
      const store = await openStore(databaseUrl(flags.db));
      try {
        const colour = paint(process.stdout);
        const summary = await processReports(reportSources(source), store, config, {
          dryRun: flags.dryRun,
          onOutcome: (outcome) => {
            if (flags.json) return;
            if (outcome.action === 'ignored' && outcome.kind !== 'sender') return;
            const what = outcome.kind === 'sender' ? colour.yellow('sender refused') : outcome.action === 'counted' ? 'soft bounce' : colour.red(outcome.action);
            process.stdout.write(`${what} ${visible(outcome.recipient ?? '')}${outcome.issue ? ` (${visible(outcome.issue)})` : ''}: ${visible([outcome.status, outcome.diagnostic].filter(Boolean).join(' ').slice(0, 160))}\n`);
          },
        });
        if (flags.json) {
          printJson({ dryRun: Boolean(flags.dryRun), reports: summary.reports, bounced: summary.bounced, complained: summary.complained, counted: summary.counted, ignored: summary.ignored, senderRefusals: summary.senderRefusals, outcomes: summary.outcomes });
          return;
        }
        process.stdout.write(
          `${flags.dryRun ? 'dry run, nothing changed: ' : ''}${summary.reports} report${summary.reports === 1 ? '' : 's'}: ${summary.bounced} bounced, ${summary.complained} complained, ${summary.counted} soft bounces counted, ${summary.ignored} ignored\n`,
        );
        if (summary.senderRefusals) {
          process.stderr.write(
            `digest: ${summary.senderRefusals} refusal${summary.senderRefusals === 1 ? ' was' : 's were'} about the sender (blocked, policy, reputation or authentication), not the readers: they were kept; check the sending domain's SPF, DKIM and DMARC and its reputation\n`,
          );
        }
      } finally {
        await store.close();
      }
    });
}
