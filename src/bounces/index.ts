import type { SubscriberStore } from '../audience/store.js';
import type { ResolvedConfig } from '../config.js';
import { BounceLedger, type BounceOutcome } from './ledger.js';
import { readReport } from './report.js';
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
    /** Awaited once a source's outcomes are applied, before the next is read: a mailbox puts the message aside. */
    onProcessed?: (source: ReportSource) => Promise<void> | void;
  } = {},
): Promise<BounceSummary> {
  const ledger = new BounceLedger(store, { bounceAddress: config.bounceAddress, softBounces: config.softBounces, dryRun: options.dryRun, now: options.now });
  const summary: BounceSummary = { reports: 0, bounced: 0, complained: 0, counted: 0, ignored: 0, senderRefusals: 0, outcomes: [] };
  for await (const source of sources) {
    summary.reports++;
    const outcomes =
      'tooLarge' in source
        ? [ignoredAs(source.source, `${(source.tooLarge / 1024 / 1024).toFixed(1)} MB: too large to be a report about a newsletter`)]
        : await ledger.apply(await readReport(source.raw), source.source);
    for (const outcome of outcomes) {
      summary[outcome.action]++;
      if (outcome.kind === 'sender') summary.senderRefusals++;
      summary.outcomes.push(outcome);
      options.onOutcome?.(outcome);
    }
    await options.onProcessed?.(source);
  }
  return summary;
}

function ignoredAs(source: string, reason: string): BounceOutcome {
  return { source, report: source, recipient: null, issue: null, kind: 'not-report', status: null, diagnostic: null, action: 'ignored', reason };
}
