import type { Command } from 'commander';
import { paint, printJson, visible } from './report.js';

interface StatusFlags {
  db?: string;
  json?: boolean;
  failed?: boolean;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('how the sends stand: per issue, readers sent, failed, deferred, unknown and pending')
    .argument('[issue]', 'an issue slug or file (default: every issue sent so far)')
    .option('--db <url>', 'the database holding the journal (default: $DIGEST_DATABASE_URL, else sqlite:./digest.db)')
    .option('--failed', 'list the readers that failed, were deferred or are unknown, with the server replies')
    .option('--json', 'print one JSON document')
    .action(async (issue: string | undefined, flags: StatusFlags) => {
      const [{ openStore }, { databaseUrl }, { sendStatus }, { loadIssue }, { UserError }] = await Promise.all([
        import('../audience/open.js'),
        import('../audience/location.js'),
        import('../delivery/status.js'),
        import('../issue/load.js'),
        import('../errors.js'),
      ]);
      // An issue is named by its slug, or by its file (whose front matter may set another slug).
      const slug = issue?.endsWith('.md') ? (await loadIssue(issue)).meta.slug : issue;
      const store = await openStore(databaseUrl(flags.db));
      try {
        const details = await sendStatus(store.dialect, slug, Boolean(flags.failed));
        if (slug && !details.length) throw new UserError(`no send of "${slug}" in the journal`, { code: 'unknown-issue' });
        const brief = (d: (typeof details)[number]) => {
          const base = { issue: d.issue, sent: d.sent, failed: d.failed, deferred: d.deferred, unknown: d.unknown, pending: d.pending };
          return d.problems ? { ...base, problems: d.problems } : base;
        };
        if (flags.json) {
          printJson(issue ? brief(details[0]!) : { issues: details.map(brief) });
          return;
        }
        const out = process.stdout;
        const colour = paint(out);
        if (!details.length) out.write('nothing has been sent yet\n');
        for (const d of details) {
          const state = d.completedAt ? colour.green('complete') : colour.yellow('in progress');
          out.write(`${d.issue} (${state}): ${d.sent} sent, ${d.failed} failed, ${d.deferred} deferred, ${d.unknown} unknown, ${d.pending} pending — "${d.subject}"\n`);
          for (const problem of d.problems ?? []) {
            const id = problem.messageId ? ` (${visible(problem.messageId)})` : '';
            out.write(`  ${problem.state} ${visible(problem.email)}${id}: ${visible(problem.reply ?? '')}\n`);
          }
        }
      } finally {
        await store.close();
      }
    });
}
