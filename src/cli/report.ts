import type { Command } from 'commander';
import { paint, printJson, shortPath } from './print.js';

interface ReportFlags {
  db?: string;
  out?: string;
  json?: boolean;
}

/** `digest report`: one issue's send, or the list across issues, as a page that needs nothing else. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description('a report with charts: how one issue’s send went, or (no issue named) how the list is doing across issues')
    .argument('[issue]', 'an issue slug or file (default: the whole list, and the latest issue)')
    .option('--db <url>', 'the database holding the list and the journal (default: $DIGEST_DATABASE_URL, else sqlite:./digest.db)')
    .option('-o, --out <file>', 'where to write the page (default: report.html, or report-<issue>.html, in the build folder)')
    .option('--json', 'print the figures as one JSON document instead of writing the page')
    .action(async (issue: string | undefined, flags: ReportFlags, command: Command) => {
      const [{ loadConfig }, { openStore }, { databaseUrl }, { loadIssue }, { buildReport }, { writeFileAtomic }, { resolve, join }] = await Promise.all([
        import('../config.js'),
        import('../audience/open.js'),
        import('../audience/location.js'),
        import('../issue/load.js'),
        import('../report/index.js'),
        import('../fs.js'),
        import('node:path'),
      ]);
      const config = await loadConfig({ path: command.optsWithGlobals().config });
      const slug = issue?.endsWith('.md') ? (await loadIssue(issue)).meta.slug : issue;
      const store = await openStore(databaseUrl(flags.db));
      let report: Awaited<ReturnType<typeof buildReport>>;
      try {
        report = await buildReport(store.dialect, { newsletter: config.name, issue: slug });
      } finally {
        await store.close();
      }
      if (flags.json) {
        printJson(report.document);
        return;
      }
      const out = flags.out ? resolve(flags.out) : join(config.outDir, slug ? `report-${slug}.html` : 'report.html');
      await writeFileAtomic(out, report.html);
      const colour = paint(process.stdout);
      const { issue: figures, list } = report.document;
      const parts = [
        list ? `${list.size[list.size.length - 1]?.subscribed ?? 0} subscribed, ${list.issues.length} issue${list.issues.length === 1 ? '' : 's'} sent` : '',
        figures ? `${figures.issue}: ${figures.sent} sent, ${figures.failed} failed, ${figures.bouncedAfter} bounced afterwards, ${figures.complained} complained, ${figures.unsubscribed.total} unsubscribed` : '',
      ].filter(Boolean);
      process.stdout.write(`${colour.green('wrote')} ${shortPath(out)}${parts.length ? ` (${parts.join('; ')})` : ''}\n`);
    });
}
