import type { Command } from 'commander';
import { paint, printJson } from './print.js';

interface SendFlags {
  due?: boolean;
  issues?: string;
  now?: string;
  to?: string;
  db?: string;
  smtp?: string;
  via: string[];
  outbox: string;
  from?: string;
  test?: string[];
  dryRun?: boolean;
  limit?: string;
  rate?: string;
  concurrency: string;
  attempts: string;
  retryDelay: string;
  retryUnknown?: boolean;
  timeout?: string;
  ignoreSchedule?: boolean;
  yes?: boolean;
  json?: boolean;
  skipPreflight?: boolean;
}

export function registerSend(program: Command): void {
  program
    .command('send')
    .description('send an issue to every subscriber exactly once, through the routes --via, the environment or the config name (without any, the outbox)')
    .argument('[issue]', 'the issue file to send')
    .option('--due', 'send every issue whose send_at has passed and whose send is not complete')
    .option('--issues <dir>', 'with --due: where the issues are (default: issues/)')
    .option('--now <iso>', 'with --due: the time to compare send_at with (default: now)')
    .option('--to <list.csv>', 'send to the readers of a CSV file instead of the database')
    .option('--db <url>', 'the subscriber database and journal (default: $DIGEST_DATABASE_URL, else sqlite:./digest.db)')
    .option('--via <url>', 'a delivery route: smtp(s)://, ses://REGION, postmark://, mailgun://DOMAIN, sendgrid://, resend://, outbox:DIR; repeat it for failover (default: $DIGEST_DELIVERY_URL, else delivery.routes in the config)', collect, [])
    .option('--smtp <url>', 'the SMTP server, as smtp://user:pass@host:587 or smtps://… (default: $DIGEST_SMTP_URL)')
    .option('--outbox <dir>', 'where messages go when no route is set', 'outbox')
    .option('--from <address>', 'the sender (default: from in the config, or $DIGEST_FROM)')
    .option('--test <address...>', 'send only to these addresses, marked as a test; nothing is recorded')
    .option('--dry-run', 'count and list who would get it; send nothing')
    .option('--limit <n>', 'send at most this many messages in this run')
    .option('--rate <per-second>', 'send at most this many messages a second')
    .option('--concurrency <n>', 'messages in flight at once (SMTP connections, HTTP requests)', '5')
    .option('--attempts <n>', 'tries per reader within a run for temporary failures (4xx, dropped connections)', '3')
    .option('--retry-delay <ms>', 'the wait before the first retry; it doubles each time', '2000')
    .option('--retry-unknown', 'send again to readers whose earlier send was interrupted before the server answered')
    .option('--timeout <seconds>', 'the longest wait for any answer from the route (default: timeout in the config, else 60)')
    .option('--ignore-schedule', "send a named issue now even though its send_at is still ahead")
    .option('--skip-preflight', "send even though the preflight's checks of the sending domain (SPF, DKIM, DMARC, MX) found errors")
    .option('-y, --yes', 'do not ask for confirmation (required without a terminal)')
    .option('--json', 'print one JSON document with the outcome')
    .addHelpText(
      'after',
      `
Before a real send (not to the outbox, not --test or --dry-run) the preflight's cheap checks look
at the sending domain in DNS; an error stops the send before anything is recorded (--skip-preflight
sends anyway). digest check --preflight runs every check.

Exit status:
  0   every reader reached a final state: sent, or failed for good (a hard bounce)
  75  the send is not finished: readers deferred, unknown or not yet reached; run again later
      (unknown readers are only sent to again with --retry-unknown, after a look at digest status)
  1   an error before or during the send; nothing about the readers is lost, run again once fixed
  130, 143  stopped by SIGINT or SIGTERM after writing every outcome; run again to finish

A first SIGINT or SIGTERM stops claiming readers, waits a few seconds for the answers of the
messages in flight, writes every outcome and prints the summary; a second one stops at once.`,
    )
    .action(async (file: string | undefined, flags: SendFlags, command: Command) => {
      const [{ loadConfig }, { databaseUrl }, { runSend }, { terminalHooks }, { UserError }] = await Promise.all([
        import('../config.js'),
        import('../audience/location.js'),
        import('../delivery/run.js'),
        import('./terminal.js'),
        import('../errors.js'),
      ]);
      const count = (name: string, value: string | undefined, min: number) => {
        if (value === undefined) return undefined;
        const number = Number(value);
        if (!Number.isFinite(number) || number < min) throw new UserError(`--${name} must be a number of at least ${min}, not "${value}"`);
        return number;
      };
      if (file && flags.due) throw new UserError('name an issue or use --due, not both');
      const now = flags.now ? new Date(flags.now) : new Date();
      if (Number.isNaN(now.getTime())) throw new UserError(`--now must be an ISO 8601 date-time, not "${flags.now}"`);

      const timeout = count('timeout', flags.timeout, 0.001);

      const config = await loadConfig({ path: command.optsWithGlobals().config });
      const hooks = terminalHooks({ yes: Boolean(flags.yes), json: Boolean(flags.json) });
      const abort = new AbortController();
      let stoppedBy: NodeJS.Signals | undefined;
      // The first signal stops the send in order; a second one, while it winds down, at once.
      const stop = (signal: NodeJS.Signals) => {
        if (stoppedBy) process.exit(signalStatus(signal));
        stoppedBy = signal;
        process.stderr.write(`\nstopping: no more readers are claimed; waiting for the answers in flight (${signal} again stops at once)\n`);
        abort.abort();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      try {
        const outcomes = await runSend(
          {
            file,
            due: flags.due ? { issuesDir: flags.issues, now } : undefined,
            config,
            databaseUrl: databaseUrl(flags.db),
            listFile: flags.to,
            via: flags.via,
            smtp: flags.smtp,
            outbox: flags.outbox,
            from: flags.from,
            test: flags.test,
            dryRun: flags.dryRun,
            yes: flags.yes,
            now: flags.now ? now : undefined,
            ignoreSchedule: flags.ignoreSchedule,
            skipPreflight: flags.skipPreflight,
            timeoutMs: (timeout ?? config.timeout) * 1000,
            limit: count('limit', flags.limit, 0),
            rate: count('rate', flags.rate, 0),
            concurrency: count('concurrency', flags.concurrency, 1)!,
            attempts: count('attempts', flags.attempts, 1)!,
            retryDelayMs: count('retry-delay', flags.retryDelay, 0)!,
            retryUnknown: flags.retryUnknown,
            signal: abort.signal,
          },
          hooks,
        );
        hooks.finish();
        report(outcomes, Boolean(flags.json), Boolean(flags.due));
        process.exitCode = stoppedBy ? signalStatus(stoppedBy) : exitStatus(outcomes);
        // Stopped: everything is written and said, and nothing left open may hold the process up.
        if (stoppedBy) process.exit();
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

type Outcomes = Awaited<ReturnType<typeof import('../delivery/run.js').runSend>>;

/** EX_TEMPFAIL (sysexits.h): the job is not done, and running it again later is the remedy. */
const UNFINISHED = 75;

/**
 * 0 when every reader of every issue reached a final state; 75 when readers are deferred or not yet
 * reached (a later run has work to do), or became unknown in this run (someone should look before
 * --retry-unknown). Unknown readers from an earlier run were reported by that run: a scheduled job
 * does not stay red for them forever.
 */
function exitStatus(outcomes: Outcomes): number {
  const unfinished = outcomes.some(
    (outcome) => outcome.kind === 'sent' && (outcome.summary.deferred > 0 || outcome.summary.unknownNow > 0 || outcome.summary.pending > 0),
  );
  return unfinished ? UNFINISHED : 0;
}

/** The shell's status for a process ended by this signal: 128 + its number. */
function signalStatus(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}

function report(outcomes: Outcomes, json: boolean, due: boolean) {
  const documents = outcomes.map((outcome) => {
    switch (outcome.kind) {
      case 'sent':
        return outcome.summary;
      case 'test':
        return { issue: outcome.issue, test: true, sent: outcome.sent.length, recipients: outcome.sent };
      case 'dry-run':
        return { issue: outcome.plan.issue, dryRun: true, recipients: outcome.plan.toSend.length, alreadySent: outcome.plan.alreadyDone, excluded: outcome.plan.excluded, addresses: outcome.plan.toSend };
      case 'declined':
        return { issue: outcome.issue, declined: true };
    }
  });
  if (json) {
    printJson(due ? { issues: documents } : (documents[0] ?? { issues: [] }));
    return;
  }
  const out = process.stdout;
  const colour = paint(out);
  if (!outcomes.length) out.write('nothing is due\n');
  for (const outcome of outcomes) {
    if (outcome.kind === 'sent') {
      const s = outcome.summary;
      out.write(
        `${s.deferred || s.unknown || s.pending ? colour.yellow('…') : colour.green('✓')} ${s.issue}: ${s.sent} sent now, ${s.alreadySent} already sent, ${s.failed} failed, ${s.deferred} deferred, ${s.unknown} unknown, ${s.pending} not yet reached, ${s.excluded} excluded (of ${s.recipients} readers)\n`,
      );
    } else if (outcome.kind === 'test') out.write(`${colour.green('✓')} test of ${outcome.issue} sent to ${outcome.sent.join(', ')}\n`);
    else if (outcome.kind === 'declined') out.write(`not sent: ${outcome.issue}\n`);
    else {
      for (const address of outcome.plan.toSend) out.write(`${address}\n`);
      out.write(`${outcome.plan.issue}: would send to ${outcome.plan.toSend.length}, already sent ${outcome.plan.alreadyDone}, excluded ${outcome.plan.excluded}\n`);
    }
  }
}
