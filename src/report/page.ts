import { escapeHtml as e } from '../escape.js';
import { palette, renderChart, WIDTHS, type ChartSpec } from './charts.js';
import type { IssueFigures } from './issue-figures.js';
import type { ListFigures } from './list-figures.js';
import { COMPLAINT_THRESHOLDS, percent } from './rates.js';

/** What `digest report` prints as JSON, and draws as the page. */
export interface ReportDocument {
  newsletter: string;
  generatedAt: string;
  /** The issue asked for, or the latest sent. */
  issue?: IssueFigures;
  /** Across issues: only in the report of the whole list (no issue named). */
  list?: ListFigures;
}

/**
 * The report as one HTML file that needs nothing else: styles inline, charts as inline SVG drawn
 * now, no script, nothing fetched (the page's own CSP says so), so it opens offline, from an
 * attachment, or behind `digest serve`'s token alike. Each chart is drawn at a phone's width and a
 * desktop's, the page showing the one that fits, and has its figures in a table beside it.
 */
export function reportPage(report: ReportDocument): string {
  const title = report.list ? `${report.newsletter}: report` : `${report.newsletter}: ${report.issue?.subject ?? 'report'}`;
  const body = [
    `<header><p class="eyebrow">${e(report.newsletter)}</p><h1>${report.list ? 'How the list is doing' : `Report on “${e(report.issue?.subject ?? '')}”`}</h1>`,
    `<p class="muted">Made ${e(when(report.generatedAt))} UTC by digest report. Rates are shares of the readers the issue was sent to.</p></header>`,
    report.list ? listSection(report.list) : '',
    report.issue ? issueSection(report.issue, Boolean(report.list)) : report.list ? '' : '<p>Nothing has been sent yet.</p>',
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="color-scheme" content="light dark">
<title>${e(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function listSection(list: ListFigures): string {
  const unit = list.period === 'week' ? 'week of' : 'month';
  const latest = list.size[list.size.length - 1];
  const byIssue = new Map(list.issues.map((issue) => [issue.issue, issue]));
  const sourceColours = [palette.blue, palette.green, palette.amber, palette.violet, palette.teal, palette.grey];
  return `<section aria-labelledby="list-title">
<h2 id="list-title">The list</h2>
${tiles([
  ['Subscribed', latest?.subscribed ?? 0],
  ['Unsubscribed', latest?.unsubscribed ?? 0],
  ['Bounced', latest?.bounced ?? 0],
  ['Complained', latest?.complained ?? 0],
  ['Issues sent', list.issues.length],
])}
${chartFigure(
  'list-size',
  'List size over time',
  `Readers subscribed at the end of each ${list.period}, and those who have left, by how they left.`,
  {
    id: 'list-size',
    axis: 'count',
    categories: list.size.map((point) => point.period),
    series: [
      { name: 'Subscribed', kind: 'line', color: palette.blue, values: list.size.map((point) => point.subscribed) },
      { name: 'Unsubscribed', kind: 'line', color: palette.amber, values: list.size.map((point) => point.unsubscribed) },
      { name: 'Bounced', kind: 'line', color: palette.grey, values: list.size.map((point) => point.bounced) },
      { name: 'Complained', kind: 'line', color: palette.red, values: list.size.map((point) => point.complained) },
    ],
  },
  [unit, 'Subscribed', 'Unsubscribed', 'Bounced', 'Complained'],
  list.size.map((point) => [point.period, point.subscribed, point.unsubscribed, point.bounced, point.complained]),
)}
${chartFigure(
  'joined',
  `New subscribers per ${list.period}, by source`,
  'Readers whose consent is dated in each period, by where it was given (the sign-up form, an import, the command line).',
  {
    id: 'joined',
    axis: 'count',
    categories: list.joined.map((point) => point.period),
    series: list.sources.map((source, i) => ({ name: source, kind: 'bar' as const, stack: 'joined', color: sourceColours[i % sourceColours.length]!, values: list.joined.map((point) => point.bySource[source] ?? 0) })),
  },
  [unit, ...list.sources],
  list.joined.map((point) => [point.period, ...list.sources.map((source) => point.bySource[source] ?? 0)]),
)}
${chartFigure(
  'rates',
  'Unsubscribes, bounces and complaints per issue',
  'Each issue’s rates, oldest first. The dashed lines are the complaint rates Gmail and Yahoo publish for bulk senders: stay under 0.1%, never reach 0.3%.',
  {
    id: 'rates',
    axis: 'percent',
    categories: list.issues.map((issue) => issue.issue),
    series: [
      { name: 'Unsubscribe rate', kind: 'line', color: palette.amber, values: list.issues.map((issue) => issue.rates.unsubscribe) },
      { name: 'Bounce rate', kind: 'line', color: palette.grey, values: list.issues.map((issue) => issue.rates.bounce) },
      { name: 'Complaint rate', kind: 'line', color: palette.red, values: list.issues.map((issue) => issue.rates.complaint) },
    ],
    thresholds: COMPLAINT_THRESHOLDS.map((threshold) => ({ value: threshold.rate, label: threshold.label })),
  },
  ['Issue', 'Sent', 'Unsubscribe rate', 'Bounce rate', 'Complaint rate'],
  list.issues.map((issue) => [issue.issue, issue.sent, percent(issue.rates.unsubscribe), percent(issue.rates.bounce), percent(issue.rates.complaint)]),
)}
<section aria-labelledby="ranked-title">
<h3 id="ranked-title">Issues ranked</h3>
<p class="muted">Best first, by ${list.ranked.by === 'clicks' ? 'clicks per reader sent' : 'the fewest readers lost (unsubscribes and complaints per reader sent); count clicks (tracking.clicks) to rank by interest instead'}.</p>
${table(
  'Issues ranked',
  ['#', 'Issue', 'Subject', 'Sent', 'Unsubscribed', 'Complained', ...(list.ranked.by === 'clicks' ? ['Clicks'] : [])],
  list.ranked.issues.map((slug, i) => {
    const issue = byIssue.get(slug)!;
    return [i + 1, issue.issue, issue.subject, issue.sent, `${issue.unsubscribed.total} (${percent(issue.rates.unsubscribe)})`, `${issue.complained} (${percent(issue.rates.complaint)})`, ...(list.ranked.by === 'clicks' ? [`${issue.clicks} (${percent(issue.rates.click)})`] : [])];
  }),
)}
</section>
</section>`;
}

function issueSection(issue: IssueFigures, underList: boolean): string {
  const heading = underList ? `<h2 id="issue-title">Latest issue: ${e(issue.subject)}</h2>` : `<h2 id="issue-title">${e(issue.issue)}</h2>`;
  const unit = issue.delivery.bucketMinutes === 1 ? 'minute' : issue.delivery.bucketMinutes < 60 ? `${issue.delivery.bucketMinutes} minutes` : issue.delivery.bucketMinutes === 60 ? 'hour' : `${issue.delivery.bucketMinutes / 60} hours`;
  return `<section aria-labelledby="issue-title">
${heading}
<p class="muted">${e(issue.issue)}: send started ${e(when(issue.startedAt))} UTC, ${issue.completedAt ? `finished ${e(when(issue.completedAt))} UTC` : 'not finished'}; ${issue.excluded} on the list left out (unsubscribed, bounced or not in its audience).</p>
${tiles([
  ['Readers', issue.readers],
  ['Sent', issue.sent],
  ['Failed', issue.failed],
  ['Deferred', issue.deferred],
  ['Unknown', issue.unknown],
  ...(issue.pending ? ([['Pending', issue.pending]] as [string, number][]) : []),
  ['Bounced afterwards', issue.bouncedAfter],
  ['Complained', issue.complained],
  ['Unsubscribed', issue.unsubscribed.total],
  ...(issue.links.length ? ([['Clicks', issue.clicks]] as [string, number][]) : []),
])}
${table(
  'Rates',
  ['Rate', 'Value', 'Counted as'],
  [
    ['Bounce', percent(issue.rates.bounce), `${issue.failed} failed during the send and ${issue.bouncedAfter} bounced afterwards, of ${issue.sent + issue.failed}`],
    ['Complaint', percent(issue.rates.complaint), `${issue.complained} of ${issue.sent} sent (limit: 0.3%)`],
    ['Unsubscribe', percent(issue.rates.unsubscribe), `${issue.unsubscribed.oneClick} by one-click, ${issue.unsubscribed.page} on the page, of ${issue.sent} sent`],
    ...(issue.links.length ? [['Click', percent(issue.rates.click), `${issue.clicks} clicks on counted links, per reader sent`]] : []),
  ],
)}
${chartFigure(
  'delivery',
  'Delivery over time',
  `Messages the receiving servers accepted per ${unit}, from the first acceptance to the last.`,
  {
    id: 'delivery',
    axis: 'count',
    categories: issue.delivery.points.map((point) => point.at.slice(11, 16) === '00:00' && issue.delivery.bucketMinutes >= 1440 ? point.at.slice(0, 10) : point.at.replace('T', ' ')),
    series: [{ name: 'Accepted', kind: 'bar', color: palette.blue, values: issue.delivery.points.map((point) => point.accepted) }],
  },
  ['Time (UTC)', 'Accepted'],
  issue.delivery.points.map((point) => [point.at.replace('T', ' '), point.accepted]),
)}
<section aria-labelledby="slow-title">
<h3 id="slow-title">Slowest domains</h3>
<p class="muted">How long after the send began each domain’s last reader was accepted, and attempts per reader (above 1: the domain asked us to come back, as greylisting does).</p>
${table(
  'Slowest domains',
  ['Domain', 'Readers', 'Sent', 'Attempts per reader', 'Last accepted (min)'],
  issue.slowestDomains.map((domain) => [domain.domain, domain.readers, domain.sent, domain.attempts, domain.lastAcceptedMinutes ?? '–']),
)}
</section>
<section aria-labelledby="failing-title">
<h3 id="failing-title">Failing domains</h3>
${
  issue.failingDomains.length
    ? table(
        'Failing domains',
        ['Domain', 'Failed', 'Deferred', 'Unknown', 'What the server said'],
        issue.failingDomains.map((domain) => [domain.domain, domain.failed, domain.deferred, domain.unknown, domain.replies.map((reply) => `${reply.reply} (${reply.readers})`).join('; ')]),
      )
    : '<p>Every domain accepted every reader.</p>'
}
</section>
${
  issue.links.length
    ? `<section aria-labelledby="links-title"><h3 id="links-title">Links</h3>${table(
        'Clicks per link',
        ['Link', 'Clicks'],
        issue.links.map((link) => [link.url, link.clicks]),
      )}</section>`
    : ''
}
</section>`;
}

/**
 * A chart at both widths (shown by the stylesheet, so it works without script) and its figures as
 * a table: the drawing is hidden from screen readers, who get the table.
 */
function chartFigure(id: string, title: string, description: string, spec: ChartSpec, head: string[], rows: (string | number)[][]): string {
  const drawn = spec.categories.length
    ? `<div class="plot narrow" aria-hidden="true">${renderChart(spec, WIDTHS.narrow)}</div>
<div class="plot wide" aria-hidden="true">${renderChart(spec, WIDTHS.wide)}</div>`
    : '<p class="muted">Nothing to draw yet.</p>';
  return `<figure class="chart" id="chart-${id}" data-chart="${id}">
<figcaption><h3>${e(title)}</h3><p class="muted">${e(description)}</p></figcaption>
${drawn}
${table(`${title}, as a table`, head, rows)}
</figure>`;
}

function tiles(items: [string, number][]): string {
  return `<dl class="tiles">${items.map(([label, value]) => `<div><dt>${e(label)}</dt><dd>${value.toLocaleString('en')}</dd></div>`).join('')}</dl>`;
}

function table(label: string, head: string[], rows: (string | number)[][]): string {
  const cell = (value: string | number) =>
    typeof value === 'number' ? `<td class="num">${value.toLocaleString('en')}</td>` : `<td${/^\d{4}-\d{2}(-\d{2})?( \d{2}:\d{2})?$/.test(value) ? ' class="when"' : ''}>${e(value)}</td>`;
  return `<div class="table-wrap" role="region" aria-label="${e(label)}" tabindex="0"><table>
<thead><tr>${head.map((name) => `<th scope="col">${e(name)}</th>`).join('')}</tr></thead>
<tbody>${rows.length ? rows.map((row) => `<tr>${row.map(cell).join('')}</tr>`).join('\n') : `<tr><td colspan="${head.length}">None.</td></tr>`}</tbody>
</table></div>`;
}

function when(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f7f7f8;--card:#fff;--text:#1c1d21;--muted:#585c66;--line:#d9dbe0}
@media (prefers-color-scheme:dark){:root{--bg:#111318;--card:#1b1e25;--text:#e8e9ec;--muted:#a6abb5;--line:#343844}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif}
main{max-width:960px;margin:0 auto;padding:24px 16px 48px}
h1{font-size:1.6rem;margin:.2em 0}
h2{font-size:1.3rem;margin:2em 0 .6em;padding-top:.6em;border-top:1px solid var(--line)}
h3{font-size:1.05rem;margin:1.4em 0 .3em}
.eyebrow{margin:0;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.05em;font-size:.8rem}
.muted{color:var(--muted);margin:.2em 0 .8em}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:8px;margin:0 0 16px}
.tiles div{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.tiles dt{font-size:.8rem;color:var(--muted)}
.tiles dd{margin:0;font-size:1.35rem;font-weight:600;font-variant-numeric:tabular-nums}
figure.chart{margin:16px 0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px}
figcaption h3{margin-top:0}
.plot{color:var(--text)}
.plot svg{display:block;width:100%;height:auto}
.plot.narrow{display:none}
@media (max-width:599px){.plot.narrow{display:block}.plot.wide{display:none}}
.table-wrap{overflow:auto;max-height:22em;margin:8px 0;border:1px solid var(--line);border-radius:6px;background:var(--card)}
table{border-collapse:collapse;width:100%;font-size:.875rem}
th,td{padding:4px 8px;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}
td{overflow-wrap:anywhere;min-width:5em}
th{position:sticky;top:0;background:var(--card)}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.when{white-space:nowrap;font-variant-numeric:tabular-nums}
`;
