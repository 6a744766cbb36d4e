import type { Command } from 'commander';
import { paint, printJson, visible } from './print.js';

interface StatusFlags {
  db?: string;
  json?: boolean;
  failed?: boolean;
  readers?: boolean;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('how the sends stand: per issue, readers sent, failed, deferred, unknown and pending')
    .argument('[issue]', 'an issue slug or file (default: every issue sent so far)')
    .option('--db <url>', 'the database holding the journal (default: $DIGEST_DATABASE_URL, else sqlite:./digest.db)')
    .option('--failed', 'list the readers that failed, were deferred or are unknown, with the server replies')
    .option('--readers', 'list every reader of the issue: state, the route that carried the message, the reply')
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
        if (flags.readers && !slug) throw new UserError('--readers lists the readers of one issue: name it', { code: 'missing-issue' });
        const details = await sendStatus(store.dialect, slug, Boolean(flags.failed), Boolean(flags.readers));
        if (slug && !details.length) throw new UserError(`no send of "${slug}" in the journal`, { code: 'unknown-issue' });
        const brief = (d: (typeof details)[number]) => {
          const base = {
            issue: d.issue,
            sent: d.sent,
            failed: d.failed,
            deferred: d.deferred,
            unknown: d.unknown,
            pending: d.pending,
            routes: d.routes,
            bounced: d.bounced,
            complained: d.complained,
            softBounces: d.softBounces,
            senderRefusals: d.senderRefusals,
          };
          return { ...base, ...(d.problems ? { problems: d.problems } : {}), ...(d.readers ? { readers: d.readers } : {}) };
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
          if (d.bounced || d.complained || d.softBounces || d.senderRefusals) {
            const refusals = d.senderRefusals ? `, ${colour.yellow(`${d.senderRefusals} refused as the sender's fault`)}` : '';
            out.write(`  came back since: ${d.bounced} bounced, ${d.complained} complained, ${d.softBounces} soft bounces counted${refusals}\n`);
          }
          const routes = Object.entries(d.routes);
          if (routes.length > 1) out.write(`  sent through ${routes.map(([route, n]) => `${visible(route)}: ${n}`).join(', ')}\n`);
          for (const problem of d.problems ?? []) {
            const id = problem.messageId ? ` (${visible(problem.messageId)})` : '';
            out.write(`  ${problem.state} ${visible(problem.email)}${id}: ${visible(problem.reply ?? '')}\n`);
          }
          for (const reader of d.readers ?? []) {
            const via = reader.route ? ` via ${visible(reader.route)}` : '';
            out.write(`  ${reader.state} ${visible(reader.email)}${via}${reader.reply ? `: ${visible(reader.reply)}` : ''}\n`);
          }
        }
      } finally {
        await store.close();
      }
    });
}
