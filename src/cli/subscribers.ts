import { Option, type Command } from 'commander';
import { explainFailure } from '../errors.js';
import { paint, printJson, shortPath, visible } from './print.js';
import type { Rejections } from '../audience/rejections.js';

interface CommonFlags {
  db?: string;
  json?: boolean;
}

const formatChoices = ['auto', 'digest', 'mailchimp', 'substack', 'ghost', 'buttondown', 'kit', 'listmonk', 'csv'];
const statusChoices = ['subscribed', 'unsubscribed', 'bounced', 'complained'];

const collect = (value: string, previous: string[]) => [...previous, value];

/** `digest subscribers …`: the list, in SQLite, PostgreSQL or a CSV file. */
export function registerSubscribers(program: Command): void {
  const group = program
    .command('subscribers')
    .description('manage the subscriber list (SQLite by default, PostgreSQL with --db postgres://…)');

  common(group.command('import'))
    .description('import a list exported from digest, Mailchimp, Substack, Ghost, Buttondown, Kit, listmonk or a spreadsheet')
    .argument('<file>', 'a CSV file')
    .addOption(new Option('--format <name>', 'the file’s format (default: detected from the header row)').choices(formatChoices).default('auto'))
    .option('--tag <tag>', 'add this tag to everyone imported (repeatable)', collect, [])
    .option('--resubscribe', 'no longer offered: people who left rejoin only by confirming themselves (see subscribers add --resubscribe)')
    .option('--strict', 'reject the whole file, changing nothing, if any row is rejected')
    .action(async (file: string, flags: CommonFlags & { format: string; tag: string[]; resubscribe?: boolean; strict?: boolean }) =>
      run(flags, async (json) => {
        if (flags.resubscribe) {
          const { UserError } = await import('../errors.js');
          throw new UserError(
            'an import cannot resubscribe anyone: people who unsubscribed, bounced, complained or were removed rejoin only by confirming themselves (the sign-up form, or `digest subscribers add EMAIL --resubscribe`, which mails them the link)',
            { code: 'invalid-flags' },
          );
        }
        const { importFile } = await import('../audience/import.js');
        const store = await openStore(flags, { bulk: true, create: true });
        try {
          const progress = progressReporter();
          const result = await importFile(store, file, {
            format: flags.format as never,
            tags: flags.tag,
            strict: flags.strict,
            onProgress: progress.update,
          });
          progress.done();
          const { imported, updated, unchanged, rejections } = result;
          try {
            await reportRejections(file, rejections);
            if (json.on) {
              const { writeLines } = await import('../audience/export.js');
              json.claim();
              await writeLines(jsonArrayLines('rejected', rejections.all(), { imported, updated, unchanged }), process.stdout);
            } else {
              process.stdout.write(
                `${paint(process.stdout).green(result.applied ? 'imported' : 'nothing imported')} ${file} (${result.format} format): ` +
                  `${imported} new, ${updated} updated, ${unchanged} unchanged, ${rejections.count} rejected\n`,
              );
            }
          } finally {
            rejections.dispose();
          }
          if (!result.applied) {
            const { UserError } = await import('../errors.js');
            throw new UserError(`${rejections.count} row${rejections.count === 1 ? '' : 's'} rejected, so nothing was imported (--strict)`, { file, code: 'rows-rejected' });
          }
        } finally {
          await store.close();
        }
      }),
    );

  common(group.command('export'))
    .description('write the list as CSV that imports back unchanged (formula cells neutralised)')
    .addOption(new Option('--status <status>', 'only subscribers with this status').choices(statusChoices))
    .option('--tag <tag>', 'only subscribers with this tag')
    .option('-o, --out <file>', 'write to this file (default: standard output)')
    .action(async (flags: CommonFlags & { status?: string; tag?: string; out?: string }) =>
      run(flags, async (json) => {
        const { UserError } = await import('../errors.js');
        if (json.on && !flags.out) throw new UserError('--json needs --out FILE, since the CSV itself goes to standard output otherwise', { code: 'invalid-flags' });
        const { exportLines, writeLines, writeLinesAtomic } = await import('../audience/export.js');
        const { resolve } = await import('node:path');
        const source = await openSource(flags);
        try {
          const lines = exportLines(source, { status: flags.status as never, tag: flags.tag });
          if (!flags.out) {
            await writeLines(lines, process.stdout);
            return;
          }
          const exported = await writeLinesAtomic(resolve(flags.out), lines);
          if (json.on) json.print({ exported, file: resolve(flags.out) });
          else process.stderr.write(`${paint(process.stderr).green('exported')} ${exported} subscribers to ${shortPath(resolve(flags.out))}\n`);
        } finally {
          await source.close();
        }
      }),
    );

  common(group.command('add'))
    .description('add one subscriber (or update their name and tags)')
    .argument('<email>')
    .option('--name <name>', 'their name')
    .option('--tag <tag>', 'a tag (repeatable)', collect, [])
    .option('--resubscribe', 'for someone who left and asked to return: mail them the sign-up confirmation; they are back once they confirm')
    .action(async (email: string, flags: CommonFlags & { name?: string; tag: string[]; resubscribe?: boolean }, command: Command) =>
      run(flags, async (json) => {
        const { UserError } = await import('../errors.js');
        const { checkAddress } = await import('../audience/address.js');
        const check = checkAddress(email);
        if (!check.ok) throw new UserError(`cannot add ${JSON.stringify(email)}: ${check.reason}`, { code: 'invalid-address' });
        const store = await openStore(flags, { create: true });
        try {
          // Whoever left (or was erased) comes back only by their own confirmation, never by this command.
          const erased = await store.isErased(check.address);
          const before = erased ? undefined : await store.get(check.address);
          const left = erased ? 'was removed at their request' : before && before.status !== 'subscribed' ? `is ${before.status}${before.withdrawnAt ? ` since ${before.withdrawnAt}` : ''}` : undefined;
          if (left && !flags.resubscribe) {
            throw new UserError(`${before?.email ?? check.address} ${left}; if they asked to return, --resubscribe mails them a link to confirm`, { code: erased ? 'erased-address' : 'withdrawn-address' });
          }
          if (left) {
            const [{ loadConfig }, { inviteBack }] = await Promise.all([import('../config.js'), import('../signup/invite.js')]);
            const config = await loadConfig({ path: command.optsWithGlobals().config });
            const result = await inviteBack(config, store, check.address, flags.name ?? before?.name ?? null);
            if (json.on) json.print({ result: result === 'mailed' ? 'confirmation-sent' : result, email: check.address });
            else process.stdout.write(result === 'mailed' ? `mailed ${check.address} a link to confirm: they are back on the list once they press its button\n` : `nothing sent to ${check.address}: a confirmation went out in the last ten minutes\n`);
            return;
          }
          const [outcome] = await store.upsert(
            [{ email: check.address, international: check.international, name: flags.name, tags: flags.tag, status: 'subscribed', consentSource: 'cli' }],
            { source: 'cli' },
          );
          const subscriber = (await store.get(check.address))!;
          const result = outcome === 'imported' ? 'added' : outcome;
          if (json.on) json.print({ result, subscriber });
          else process.stdout.write(`${paint(process.stdout).green(result)} ${subscriber.email}${subscriber.international ? ' (international address: some mail servers refuse these)' : ''}\n`);
        } finally {
          await store.close();
        }
      }),
    );

  common(group.command('unsubscribe'))
    .description('unsubscribe an address (recorded even if it was not on the list, so no import adds it)')
    .argument('<email>')
    .action(async (email: string, flags: CommonFlags) =>
      run(flags, async (json) => {
        const { UserError } = await import('../errors.js');
        const { checkAddress } = await import('../audience/address.js');
        const check = checkAddress(email);
        if (!check.ok) throw new UserError(`cannot unsubscribe ${JSON.stringify(email)}: ${check.reason}`, { code: 'invalid-address' });
        const store = await openStore(flags);
        try {
          const changed = await store.unsubscribe(check.address, 'cli: unsubscribe');
          const subscriber = await store.get(check.address);
          if (!subscriber) {
            // Erased by `remove`: nothing is kept but its hash, which already stops every import and add.
            if (json.on) json.print({ email: check.address, status: 'erased', changed: false });
            else process.stdout.write(`already not subscribed: ${check.address} was removed at their request (only a one-way hash is kept)\n`);
            return;
          }
          if (json.on) json.print({ email: subscriber.email, status: subscriber.status, changed });
          else process.stdout.write(`${changed ? paint(process.stdout).green('unsubscribed') : 'already not subscribed:'} ${subscriber.email}\n`);
        } finally {
          await store.close();
        }
      }),
    );

  common(group.command('remove'))
    .description('erase an address and its data, keeping only a one-way hash so no import brings it back')
    .argument('<email>')
    .action(async (email: string, flags: CommonFlags) =>
      run(flags, async (json) => {
        const store = await openStore(flags);
        try {
          const erased = await store.remove(email.trim());
          if (json.on) json.print({ erased, suppressed: true });
          else process.stdout.write(erased ? `${paint(process.stdout).green('removed')} the subscriber; only a one-way hash of the address is kept\n` : 'not on the list; its hash is kept so no import adds it\n');
        } finally {
          await store.close();
        }
      }),
    );

  common(group.command('list'))
    .description('list subscribers')
    .addOption(new Option('--status <status>', 'only subscribers with this status (pending: signed up, not yet confirmed)').choices([...statusChoices, 'pending']))
    .option('--tag <tag>', 'only subscribers with this tag')
    .action(async (flags: CommonFlags & { status?: string; tag?: string }, command: Command) =>
      run(flags, async (json) => {
        const { writeLines } = await import('../audience/export.js');
        const source = await openSource(flags);
        try {
          const subscribers = flags.status === 'pending' ? await pendingReaders(source, command, flags.tag) : source.list({ status: flags.status as never, tag: flags.tag });
          json.claim();
          await writeLines(json.on ? jsonArrayLines('subscribers', subscribers) : textLines(subscribers), process.stdout);
        } finally {
          await source.close();
        }
      }),
    );

  common(group.command('count'))
    .description('count subscribers by status')
    .option('--tag <tag>', 'only subscribers with this tag')
    .action(async (flags: CommonFlags & { tag?: string }, command: Command) =>
      run(flags, async (json) => {
        const source = await openSource(flags);
        try {
          // Pending readers are not on the list yet (no tags, no status): counted beside it.
          const counts = { ...(await source.count({ tag: flags.tag })), pending: await pendingCount(source, command, flags.tag) };
          if (json.on) json.print(counts);
          else
            process.stdout.write(
              `${counts.total} in all: ${counts.subscribed} subscribed, ${counts.unsubscribed} unsubscribed, ${counts.bounced} bounced, ${counts.complained} complained; ${counts.pending} pending confirmation\n`,
            );
        } finally {
          await source.close();
        }
      }),
    );
}

function common(command: Command): Command {
  return command
    .option('--db <url>', 'the list: sqlite:FILE, postgres://…, or a .csv file to read (default: $DIGEST_DATABASE_URL, else sqlite:./digest.db)')
    .option('--json', 'print one JSON document on standard output');
}

async function openStore(flags: CommonFlags, options?: import('../audience/open.js').StoreOptions) {
  const [{ openStore }, { databaseUrl }] = await Promise.all([import('../audience/open.js'), import('../audience/location.js')]);
  return openStore(databaseUrl(flags.db), options);
}

async function openSource(flags: CommonFlags) {
  const [{ openSource }, { databaseUrl }] = await Promise.all([import('../audience/open.js'), import('../audience/location.js')]);
  return openSource(databaseUrl(flags.db));
}

/**
 * Where readers who signed up and have not confirmed within the link's life (config
 * signup.tokenDays) are found. A CSV list has none; nor does a tag, since tags come with confirming.
 */
async function pendingScope(source: import('../audience/store.js').SubscriberSource, command: Command, tag: string | undefined) {
  if (!('dialect' in source) || tag !== undefined) return undefined;
  const { loadConfig } = await import('../config.js');
  const config = await loadConfig({ path: command.optsWithGlobals().config });
  return { db: (source as import('../audience/store.js').SubscriberStore).dialect.db, since: new Date(Date.now() - config.signup.tokenDays * 24 * 60 * 60_000) };
}

async function pendingReaders(source: import('../audience/store.js').SubscriberSource, command: Command, tag: string | undefined) {
  const scope = await pendingScope(source, command, tag);
  if (!scope) return [];
  const { listPending } = await import('../signup/pending.js');
  return (await listPending(scope.db, scope.since)).map((reader) => ({ email: reader.email, status: 'pending', name: reader.name, tags: [] as string[], consentSource: reader.source, requestedAt: reader.requestedAt }));
}

async function pendingCount(source: import('../audience/store.js').SubscriberSource, command: Command, tag: string | undefined): Promise<number> {
  const scope = await pendingScope(source, command, tag);
  if (!scope) return 0;
  const { countPending } = await import('../signup/pending.js');
  return countPending(scope.db, scope.since);
}

type Listed = { email: string; status: string; name: string | null; tags: string[]; withdrawnHow?: string | null; withdrawnAt?: string | null };

interface JsonOutput {
  on: boolean;
  print(document: unknown): void;
  /** Says that the command is writing its one document itself. */
  claim(): void;
}

/**
 * Runs a command so that `--json` always puts exactly one document on stdout: the command's, or,
 * when a user error stops it first, `{"error": …}`. The error still goes to stderr as one line.
 */
async function run(flags: CommonFlags, work: (json: JsonOutput) => Promise<void>): Promise<void> {
  let printed = false;
  const json: JsonOutput = {
    on: Boolean(flags.json),
    print(document) {
      printed = true;
      printJson(document);
    },
    claim() {
      printed = true;
    },
  };
  try {
    await work(json);
  } catch (error) {
    const explained = explainFailure(error);
    if (json.on && !printed && explained) {
      printJson({ error: { code: explained.code, message: explained.message, ...(explained.file ? { file: explained.file } : {}), ...(explained.line ? { line: explained.line } : {}) } });
    }
    throw error;
  }
}

/** Rejected rows shown on stderr, one a line; past the first SHOWN_REJECTIONS, how many more (--json has them all). */
const SHOWN_REJECTIONS = 100;

async function reportRejections(file: string, rejections: Rejections): Promise<void> {
  const label = paint(process.stderr).yellow('rejected');
  let shown = 0;
  for await (const rejection of rejections.all()) {
    if (shown === SHOWN_REJECTIONS) break;
    process.stderr.write(`digest: ${file}:${rejection.line}: ${label} ${visible(rejection.reason)}\n`);
    shown++;
  }
  const more = rejections.count - shown;
  if (more > 0) process.stderr.write(`digest: ${file}: ${label} ${more.toLocaleString('en')} more rows, not shown here (--json lists every one)\n`);
}

/** One JSON document, written as it is made: `fields` first, then the array under `key`, an item a line. */
async function* jsonArrayLines(key: string, items: AsyncIterable<unknown> | Iterable<unknown>, fields: Record<string, unknown> = {}): AsyncGenerator<string> {
  let first = true;
  const before = Object.entries(fields).map(([name, value]) => `\n  ${JSON.stringify(name)}: ${JSON.stringify(value)},`);
  yield `{${before.join('')}\n  ${JSON.stringify(key)}: [`;
  for await (const item of items) {
    yield `${first ? '' : ','}\n    ${JSON.stringify(item)}`;
    first = false;
  }
  yield first ? ']\n}\n' : '\n  ]\n}\n';
}

async function* textLines(subscribers: AsyncIterable<Listed> | Iterable<Listed>): AsyncGenerator<string> {
  for await (const subscriber of subscribers) {
    // Whoever left says why and when (a bounce's code and the server's words, a complaint, a click).
    const why = subscriber.status !== 'subscribed' && subscriber.withdrawnHow ? [`${subscriber.withdrawnHow}${subscriber.withdrawnAt ? ` (${subscriber.withdrawnAt})` : ''}`] : [];
    yield `${[subscriber.email, subscriber.status, subscriber.name ?? '', subscriber.tags.join(','), ...why].map(visible).join('\t')}\n`;
  }
}

/**
 * A count on a terminal, redrawn at most ten times a second; nothing when output is logged (CI,
 * pipes), where a final line is enough.
 */
function progressReporter() {
  const live = Boolean(process.stderr.isTTY) && !process.env.CI;
  let shown = false;
  let drawn = 0;
  return {
    update: (rows: number) => {
      if (!live) return;
      const now = Date.now();
      if (now - drawn < 100) return;
      drawn = now;
      shown = true;
      process.stderr.write(`\r${rows.toLocaleString('en')} rows read…`);
    },
    done: () => {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}
