import type { SubscriberStore } from '../audience/store.js';
import type { ResolvedConfig } from '../config.js';
import { ledgerFor, type BounceOutcome } from './ledger.js';
import { readReport, type Report } from './report.js';
import type { ReportSource } from './sources.js';

export type { BounceOutcome } from './ledger.js';

export interface BounceSummary {
  reports: number;
  bounced: number;
  complained: number;
  counted: number;
  ignored: number;
  /** Refusals about the sender (blocked, policy, reputation): the readers were kept. */
  senderRefusals: number;
  outcomes: BounceOutcome[];
}

/**
 * Reads each report and applies what it says (src/bounces/ledger.ts). The stages, in order:
 * sources.ts or imap.ts (the messages) → report.ts (the fields) → classify.ts (what they mean) →
 * ledger.ts (whom they name, and the change).
 */
export async function processReports(
  sources: AsyncIterable<ReportSource>,
  store: SubscriberStore,
  config: ResolvedConfig,
  options: {
    dryRun?: boolean;
    now?: Date;
    onOutcome?: (outcome: BounceOutcome) => void;
    /** Awaited for each source once its outcomes are committed: a mailbox puts the message aside. */
    onProcessed?: (source: ReportSource) => Promise<void> | void;
  } = {},
): Promise<BounceSummary> {
  const ledger = ledgerFor(store, config, { dryRun: options.dryRun, now: options.now });
  const summary: BounceSummary = { reports: 0, bounced: 0, complained: 0, counted: 0, ignored: 0, senderRefusals: 0, outcomes: [] };
  const apply = async (batch: { source: ReportSource; report?: Report }[]) => {
    // One transaction for a batch of reports: a commit per report would cost more than the report.
    const applied = await store.dialect.transaction(async () => {
      const results: BounceOutcome[][] = [];
      for (const { source, report } of batch) {
        results.push(report ? await ledger.apply(report, source.source) : [ignoredAs(source.source, `${((source as { tooLarge: number }).tooLarge / 1024 / 1024).toFixed(1)} MB: too large to be a report about a newsletter`)]);
      }
      return results;
    });
    for (const outcomes of applied) {
      summary.reports++;
      for (const outcome of outcomes) {
        summary[outcome.action]++;
        if (outcome.kind === 'sender') summary.senderRefusals++;
        summary.outcomes.push(outcome);
        options.onOutcome?.(outcome);
      }
    }
    // Only once the batch is committed may its messages be put aside.
    for (const { source } of batch) await options.onProcessed?.(source);
  };
  let batch: { source: ReportSource; report?: Report }[] = [];
  for await (const parsed of readAhead(sources, READ_AHEAD)) {
    batch.push(parsed);
    if (batch.length >= BATCH) {
      await apply(batch);
      batch = [];
    }
  }
  if (batch.length) await apply(batch);
  return summary;
}

/** Reports parsed while earlier ones are applied: the parse waits on its streams, the database on its answers. */
const READ_AHEAD = 8;
/** Reports applied in one transaction. */
const BATCH = 100;

async function* readAhead(sources: AsyncIterable<ReportSource>, depth: number): AsyncGenerator<{ source: ReportSource; report?: Report }> {
  const queue: Promise<{ source: ReportSource; report?: Report }>[] = [];
  const parse = (source: ReportSource) => ('raw' in source ? readReport(source.raw).then((report) => ({ source, report })) : Promise.resolve({ source }));
  for await (const source of sources) {
    queue.push(parse(source));
    // A parse that fails is not left unhandled while it waits its turn.
    queue.at(-1)!.catch(() => undefined);
    if (queue.length >= depth) yield await queue.shift()!;
  }
  while (queue.length) yield await queue.shift()!;
}

function ignoredAs(source: string, reason: string): BounceOutcome {
  return { source, report: source, recipient: null, issue: null, kind: 'not-report', status: null, diagnostic: null, action: 'ignored', reason };
}
