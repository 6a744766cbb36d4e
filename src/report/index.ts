import type { Connection } from '../db/connection.js';
import { Journal } from '../delivery/journal.js';
import { UserError } from '../errors.js';
import { issueFigures } from './issue-figures.js';
import { listFigures } from './list-figures.js';
import { reportPage, type ReportDocument } from './page.js';

export type { ReportDocument } from './page.js';

/**
 * The report: one issue's send (the issue named), or the list across issues followed by the
 * latest issue (none named). Figures first (`--json` prints them), then the page drawn from them.
 */
export async function buildReport(connection: Connection, options: { newsletter: string; issue?: string; now?: Date }): Promise<{ document: ReportDocument; html: string }> {
  const now = options.now ?? new Date();
  const document: ReportDocument = { newsletter: options.newsletter, generatedAt: now.toISOString() };
  if (options.issue) {
    const figures = await issueFigures(connection, options.issue);
    if (!figures) throw new UserError(`no send of "${options.issue}" in the journal`, { code: 'unknown-issue' });
    document.issue = figures;
  } else {
    document.list = await listFigures(connection, now);
    const [latest] = await new Journal(connection).issues();
    if (latest) document.issue = await issueFigures(connection, latest.issue);
  }
  return { document, html: reportPage(document) };
}
