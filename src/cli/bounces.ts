import { Option, type Command } from 'commander';
import type { BounceOutcome, BounceSummary } from '../bounces/index.js';
import type { ReportSource } from '../bounces/sources.js';
import { paint, printJson, visible } from './print.js';

interface ReadFlags {
  db?: string;
  json?: boolean;
  dryRun?: boolean;
}

interface FetchFlags extends ReadFlags {
  mailbox?: string;
  mark: 'move' | 'flag';
}

/** `digest bounces read` and `fetch`: the reports that come back after a send (docs/bounces.md). */
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
      const { reportSources } = await import('../bounces/sources.js');
      await processAndPrint(reportSources(source), flags, command);
    });

  group
    .command('fetch')
    .description('read new messages from the bounce mailbox over IMAP ($DIGEST_BOUNCE_IMAP_URL, $DIGEST_BOUNCE_IMAP_PASSWORD), then put each aside so it is read once')
    .option('--mailbox <name>', 'the folder to read (default: the one the URL names, else INBOX)')
    .addOption(new Option('--mark <how>', `how a processed message is put aside: move it to the folder digest-processed (made if missing), or flag it \\Seen and $DigestProcessed where it is`).choices(['move', 'flag']).default('move'))
    .option('--db <url>', 'the subscriber database (default: $DIGEST_DATABASE_URL, else sqlite:./digest.db)')
    .option('--dry-run', 'classify and match every report; change nothing, move or flag no message')
    .option('--json', 'print one JSON document: every report with its recipient, classification, code, diagnostic and what was done')
    .action(async (flags: FetchFlags, command: Command) => {
      const [{ imapSettings }, { openBounceMailbox, PROCESSED_FOLDER }] = await Promise.all([import('../bounces/imap-url.js'), import('../bounces/imap.js')]);
      const mailbox = await openBounceMailbox(imapSettings(), { mailbox: flags.mailbox, mark: flags.mark, dryRun: flags.dryRun });
      try {
        await processAndPrint(mailbox.messages(), flags, command, (source) => mailbox.processed(source));
        if (!flags.json && mailbox.marked) {
          process.stdout.write(`${mailbox.marked} message${mailbox.marked === 1 ? '' : 's'} ${flags.mark === 'move' ? `moved to ${PROCESSED_FOLDER}` : 'flagged $DigestProcessed'}\n`);
        }
      } finally {
        await mailbox.close();
      }
    });
}

async function processAndPrint(sources: AsyncIterable<ReportSource>, flags: ReadFlags, command: Command, onProcessed?: (source: ReportSource) => Promise<void>): Promise<void> {
  const [{ openStore }, { databaseUrl }, { loadConfig }, { processReports }] = await Promise.all([
    import('../audience/open.js'),
    import('../audience/location.js'),
    import('../config.js'),
    import('../bounces/index.js'),
  ]);
  const config = await loadConfig({ path: command.optsWithGlobals().config });
  const store = await openStore(databaseUrl(flags.db));
  try {
    const colour = paint(process.stdout);
    const summary = await processReports(sources, store, config, {
      dryRun: flags.dryRun,
      onProcessed,
      onOutcome: (outcome) => {
        if (!flags.json) printOutcome(outcome, colour);
      },
    });
    printSummary(summary, flags);
  } finally {
    await store.close();
  }
}

function printOutcome(outcome: BounceOutcome, colour: ReturnType<typeof paint>): void {
  if (outcome.action === 'ignored' && outcome.kind !== 'sender') return;
  const what = outcome.kind === 'sender' ? colour.yellow('sender refused') : outcome.action === 'counted' ? 'soft bounce' : colour.red(outcome.action);
  process.stdout.write(`${what} ${visible(outcome.recipient ?? '')}${outcome.issue ? ` (${visible(outcome.issue)})` : ''}: ${visible([outcome.status, outcome.diagnostic].filter(Boolean).join(' ').slice(0, 160))}\n`);
}

function printSummary(summary: BounceSummary, flags: ReadFlags): void {
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
}
