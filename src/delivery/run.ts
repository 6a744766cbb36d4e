import { resolve } from 'node:path';
import type { ResolvedConfig } from '../config.js';
import { UserError, isUserError } from '../errors.js';
import { loadIssue } from '../issue/load.js';
import { prepareMjml, releaseMjml } from '../render/compile.js';
import { renderIssue, TemplateCache, type Edition } from '../render/index.js';
import { issueFiles } from '../build.js';
import type { Channel } from './channels/index.js';
import { openDelivery } from './routes.js';
import { sendTests } from './test-send.js';
import { Journal } from './journal.js';
import { dueIssues } from './schedule.js';
import { planSend, type SendPlan } from './audience.js';
import { sendIssue, type Progress, type SendPacing, type SendSummary } from './send.js';
import type { SubscriberStore } from '../audience/store.js';

/** A `digest send` as the command line asked for it. */
export interface SendRequest extends SendPacing {
  file?: string;
  due?: { issuesDir?: string; now: Date };
  config: ResolvedConfig;
  databaseUrl: string;
  listFile?: string;
  /** --via: route URLs, tried in order (failover). */
  via?: string[];
  /** --smtp, as before --via. */
  smtp?: string;
  outbox: string;
  from?: string;
  test?: string[];
  dryRun?: boolean;
  /** Confirmed already (--yes): nobody will be asked. */
  yes?: boolean;
  /** Send a named issue now even if its send_at is still ahead. */
  ignoreSchedule?: boolean;
  /** The time to hold send_at against (--now); also makes a named issue's early send deliberate. */
  now?: Date;
  /** Send even though the preflight's cheap checks (the sending domain in DNS) found errors. */
  skipPreflight?: boolean;
}

/** What the command line supplies: the question to the editor, and where progress goes. */
export interface SendHooks {
  /** Asked before a real send; false stops it. */
  confirm(question: { subject: string; readers: number; via: string; early?: string }): Promise<boolean>;
  progress(issue: string, progress: Progress): void;
  notice(message: string): void;
  started(issue: string, subject: string, readers: number, via: string): void | Promise<void>;
}

export type SendOutcome =
  | { kind: 'sent'; summary: SendSummary }
  | { kind: 'test'; issue: string; sent: string[] }
  | { kind: 'dry-run'; plan: SendPlan }
  | { kind: 'declined'; issue: string };

export async function runSend(request: SendRequest, hooks: SendHooks): Promise<SendOutcome[]> {
  const from = request.from ?? request.config.from;
  if (!from) throw new UserError('no sender: set from: in the config, DIGEST_FROM, or --from', { code: 'missing-from' });
  const files = request.due ? await dueFiles(request, hooks) : [required(request.file)];
  const templates = new TemplateCache();
  // Every issue is rendered before any is sent, with mjml in a worker that is then ended: a send's
  // memory budget is spent on readers, not on a compiler it no longer needs.
  const editions: Edition[] = [];
  const sources = new Map<Edition, string>();
  prepareMjml();
  try {
    for (const file of files) {
      const edition = await renderIssue(await loadIssue(file), request.config, templates);
      const errors = edition.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length) {
        const first = errors[0]!;
        throw new UserError(`${first.code}: ${first.message} (digest check lists everything; nothing was sent)`, { file: first.file, line: first.line, code: first.code });
      }
      editions.push(edition);
      sources.set(edition, file);
    }
  } finally {
    await releaseMjml();
  }
  const outcomes: SendOutcome[] = [];
  for (const edition of editions) outcomes.push(await sendOne(edition, sources.get(edition)!, from, request, hooks));
  return outcomes;
}

async function sendOne(edition: Edition, file: string, from: string, request: SendRequest, hooks: SendHooks): Promise<SendOutcome> {
  const issue = edition.meta.slug;
  if (request.test) {
    const channel = await openChannel(request, from, edition.meta.slug, hooks);
    try {
      const sent = await sendTests(edition, { from, config: request.config, to: request.test, channel });
      return { kind: 'test', issue, sent: sent.map(({ to }) => to) };
    } finally {
      channel.close();
    }
  }
  const { openStore, openSource } = await import('../audience/open.js');
  // A dry run reads the list and the journal only: no route is needed, or contacted.
  // With --to, the database holds only the journal: it is created where it does not exist yet.
  const create = Boolean(request.listFile);
  if (request.dryRun) {
    const store = await openStore(request.databaseUrl, { create });
    const list = request.listFile ? await openSource(resolve(request.listFile)) : undefined;
    try {
      return { kind: 'dry-run', plan: await planSend({ edition, store, list }) };
    } finally {
      await list?.close();
      await store.close();
    }
  }
  const early = request.due ? undefined : earlySend(edition, request);
  const channel = await openChannel(request, from, edition.meta.slug, hooks);
  // Only a real route reaches inboxes: the outbox delivers nowhere, so its sends skip the preflight.
  if (channel.real && !request.skipPreflight) {
    try {
      await preflightBeforeSend(edition, file, from, request, hooks);
    } catch (error) {
      channel.close();
      throw error;
    }
  }
  let store: SubscriberStore | undefined;
  let list: Awaited<ReturnType<typeof openSource>> | undefined;
  try {
    store = await openStore(request.databaseUrl, { create });
    list = request.listFile ? await openSource(resolve(request.listFile)) : undefined;
    if (request.due) {
      const earlier = await new Journal(store.dialect).send(issue);
      if (earlier?.completed_at) return { kind: 'sent', summary: await finishedSummary(store, issue, earlier.excluded) };
    }
    const summary = await sendIssue({
      edition,
      config: request.config,
      store,
      list,
      channel,
      from,
      secret: process.env.DIGEST_SECRET,
      ...pacing(request),
      onProgress: (progress) => hooks.progress(issue, progress),
      onNotice: hooks.notice,
      // Counted from the journal once the audience is in it: no pass over the list held in memory.
      async confirm(waiting) {
        if (channel.real && waiting && !(await hooks.confirm({ subject: edition.subject, readers: waiting, via: channel.description, early }))) return false;
        await hooks.started(issue, edition.subject, waiting, channel.description);
        return true;
      },
    });
    return summary.declined ? { kind: 'declined', issue } : { kind: 'sent', summary };
  } finally {
    channel.close();
    await list?.close();
    await store?.close();
  }
}

/**
 * The preflight's cheap checks (the sending domain in DNS: a few lookups), run before every real
 * send. Warnings are said and the send goes on; errors stop it before anything is recorded, unless
 * the editor said --skip-preflight. The full preflight is `digest check --preflight`.
 */
async function preflightBeforeSend(edition: Edition, file: string, from: string, request: SendRequest, hooks: SendHooks): Promise<void> {
  const { preflightEdition } = await import('../preflight/issue.js');
  const config = from === request.config.from ? request.config : { ...request.config, from };
  const found = await preflightEdition(file, edition, config, { cheapOnly: true, signal: request.signal });
  for (const warning of found.warnings) hooks.notice(`preflight: ${warning.code}: ${warning.message}`);
  const first = found.errors[0];
  if (first) {
    const more = found.errors.length > 1 ? ` (and ${found.errors.length - 1} more)` : '';
    throw new UserError(`preflight: ${first.code}: ${first.message}${more}; nothing was sent. digest check --preflight lists every finding; --skip-preflight sends anyway`, {
      file: first.file,
      line: first.line,
      code: first.code,
    });
  }
}

/**
 * A named issue whose send_at is still ahead: said in the confirmation, and refused where nobody
 * is asked (--yes) unless the early send is deliberate (--ignore-schedule, or a --now past it).
 */
function earlySend(edition: Edition, request: SendRequest): string | undefined {
  const at = edition.meta.send_at;
  if (!at || request.ignoreSchedule) return undefined;
  const now = request.now ?? new Date();
  if (Date.parse(at) <= now.getTime()) return undefined;
  const when = `it is scheduled for ${at}`;
  if (request.yes && !request.now) {
    throw new UserError(`${edition.meta.slug} is not due yet: ${when}; send it then with --due, or now with --ignore-schedule`, { code: 'not-due' });
  }
  return when;
}

async function finishedSummary(store: SubscriberStore, issue: string, excluded: number): Promise<SendSummary> {
  const journal = new Journal(store.dialect);
  const counts = await journal.counts(issue);
  const recipients = Object.values(counts).reduce((a, b) => a + b, 0);
  return { issue, recipients, sent: 0, alreadySent: counts.sent, failed: counts.failed, deferred: counts.deferred, unknown: counts.unknown, unknownNow: 0, pending: await journal.unreached(issue), excluded };
}

/** The routes the command line, the environment or the config name, opened and checked. */
function openChannel(request: SendRequest, from: string, slug: string, hooks: SendHooks): Promise<Channel> {
  return openDelivery({
    via: request.via,
    smtp: request.smtp,
    outbox: request.outbox,
    config: request.config,
    from,
    slug,
    concurrency: request.concurrency,
    timeoutMs: request.timeoutMs ?? request.config.timeout * 1000,
    notice: hooks.notice,
  });
}

async function dueFiles(request: SendRequest, hooks: SendHooks): Promise<string[]> {
  const folder = request.due!.issuesDir ? resolve(request.due!.issuesDir) : request.config.issuesDir;
  const files = await issueFiles([], { ...request.config, issuesDir: folder });
  return dueIssues(files, request.due!.now, (file, error) => {
    if (!isUserError(error)) throw error;
    hooks.notice(`skipping ${file}: ${error.located}`);
  });
}

function pacing({ limit, rate, concurrency, attempts, retryDelayMs, retryUnknown, timeoutMs, signal }: SendPacing): SendPacing {
  return { limit, rate, concurrency, attempts, retryDelayMs, retryUnknown, timeoutMs, signal };
}

function required(file: string | undefined): string {
  if (!file) throw new UserError('name the issue to send, or use --due to send whatever has come due', { code: 'missing-issue' });
  return file;
}
