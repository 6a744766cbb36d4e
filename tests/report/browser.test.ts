/**
 * The report page in real Chromium, with JavaScript off (the page has none), at a phone's width and
 * a desktop's, light and dark: every chart drawn at the width shown has one mark per data point of
 * the figures `--json` gives, nothing scrolls sideways, nothing is fetched, nothing is logged.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browserAvailable, launchChromium } from '../browser.js';
import { fixture, runCli, tempProject } from '../helpers.js';
import { sinkForSuite } from '../smtp-sink.js';

const config = `name: The Test Gazette
from: "Test Gazette <news@gazette.example>"
address: "1 Press Lane, Testville"
baseUrl: https://gazette.example/news
`;
const SECRET = 'a report test secret, thirty-two characters or more';

/** Which series of each chart hold data (the thresholds come after them), as `--json` has them. */
function expectedMarks(report: any): Record<string, number[]> {
  const count = (values: (number | null)[]) => values.filter((value) => value !== null).length;
  const { list, issue } = report;
  return {
    'list-size': ['subscribed', 'unsubscribed', 'bounced', 'complained'].map((key) => count(list.size.map((point: any) => point[key]))),
    joined: list.sources.map((source: string) => count(list.joined.map((point: any) => point.bySource[source]))),
    rates: ['unsubscribe', 'bounce', 'complaint'].map((key) => count(list.issues.map((one: any) => one.rates[key]))),
    delivery: [count(issue.delivery.points.map((point: any) => point.accepted))],
  };
}

describe.skipIf(!browserAvailable())('the report page in Chromium', () => {
  const sink = sinkForSuite({ behaviour: (recipient) => (recipient.startsWith('gone@') ? { code: 550, message: '5.1.1 no such mailbox' } : 'accept') });
  let browser: Browser;
  let html: string;
  let report: any;
  beforeAll(async () => {
    browser = await launchChromium();
    const issue = fixture('issues', 'complete.md');
    const root = tempProject({ 'issues/one.md': issue, 'issues/two.md': issue, 'issues/three.md': issue }, config);
    const db = `sqlite:${join(root, 'digest.db')}`;
    const env = { DIGEST_SECRET: SECRET };
    for (const email of ['ana@example.org', 'bo@example.net', 'cy@example.com', 'gone@example.org', 'di@example.org']) {
      expect((await runCli(['subscribers', 'add', email, '--tag', 'local', '--db', db], { cwd: root })).code).toBe(0);
    }
    for (const name of ['one', 'two', 'three']) {
      const sent = await runCli(['send', `issues/${name}.md`, '--db', db, '--smtp', sink().url, '--yes'], { cwd: root, env });
      expect(sent.code, sent.stderr).toBe(0);
    }
    const written = await runCli(['report', '--db', db, '--out', 'report.html'], { cwd: root });
    expect(written.code, written.stderr).toBe(0);
    html = readFileSync(join(root, 'report.html'), 'utf8');
    report = JSON.parse((await runCli(['report', '--db', db, '--json'], { cwd: root })).stdout);
  }, 120_000);
  afterAll(() => browser?.close());

  for (const [width, scheme] of [
    [375, 'light'],
    [375, 'dark'],
    [1280, 'light'],
    [1280, 'dark'],
  ] as const) {
    test(`${width} px, ${scheme}: each chart has its data points, and the page stays within the screen`, async () => {
      const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme: scheme, javaScriptEnabled: false });
      const problems: string[] = [];
      page.on('console', (message) => problems.push(`console ${message.type()}: ${message.text()}`));
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('request', (request) => {
        if (request.url() !== 'about:blank' && !request.url().startsWith('data:')) problems.push(`request: ${request.url()}`);
      });
      try {
        await page.setContent(html, { waitUntil: 'load' });
        const charts = await page.evaluate(() =>
          [...document.querySelectorAll('figure[data-chart]')].map((figure) => {
            const shown = [...figure.querySelectorAll('.plot')].filter((plot) => getComputedStyle(plot).display !== 'none');
            const svg = shown[0]?.querySelector('svg');
            const marks: Record<string, Set<string>> = {};
            for (const element of svg?.querySelectorAll('[ecmeta_ssr_type="chart"][ecmeta_series_index][ecmeta_data_index]') ?? []) {
              (marks[element.getAttribute('ecmeta_series_index')!] ??= new Set()).add(element.getAttribute('ecmeta_data_index')!);
            }
            return {
              id: (figure as HTMLElement).dataset.chart!,
              shown: shown.map((plot) => plot.className),
              width: svg?.getBoundingClientRect().width ?? 0,
              marks: Object.fromEntries(Object.entries(marks).map(([series, indices]) => [series, indices.size])),
              rows: figure.querySelectorAll('tbody tr').length,
            };
          }),
        );
        const expected = expectedMarks(report);
        expect(charts.map((chart) => chart.id).sort()).toEqual(Object.keys(expected).sort());
        for (const chart of charts) {
          // One drawing shown, the one for this width, no wider than the screen.
          expect(chart.shown).toEqual([width < 600 ? 'plot narrow' : 'plot wide']);
          expect(chart.width).toBeGreaterThan(200);
          expect(chart.width).toBeLessThanOrEqual(width);
          const wanted = expected[chart.id]!;
          wanted.forEach((points, series) => expect(chart.marks[String(series)] ?? 0, `${chart.id} series ${series}`).toBe(points));
          // The table beside it holds a row per category.
          expect(chart.rows).toBe(chart.id === 'rates' ? report.list.issues.length : chart.id === 'delivery' ? report.issue.delivery.points.length : report.list.size.length);
        }
        // The complaint thresholds are drawn on the rates chart, as lines of their own.
        const thresholds = await page.evaluate(() => document.querySelectorAll('#chart-rates .plot svg path[stroke-dasharray]').length);
        expect(thresholds).toBeGreaterThanOrEqual(2 * 2);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
        // The text follows the scheme: light text on a dark page, dark on a light one.
        const colours = await page.evaluate(() => [getComputedStyle(document.body).color, getComputedStyle(document.querySelector('.plot svg')!.closest('.plot')!).color]);
        const lightness = (rgb: string) => rgb.match(/\d+/g)!.slice(0, 3).reduce((sum, n) => sum + Number(n), 0) / 3;
        for (const colour of colours) expect(scheme === 'dark' ? lightness(colour) > 180 : lightness(colour) < 80, colour).toBe(true);
        expect(problems).toEqual([]);
      } finally {
        await page.close();
      }
    });
  }

  test('the page fetches nothing and runs nothing: no script, no external reference, a CSP that forbids both', () => {
    expect(html).not.toMatch(/<script|<link |<img |<iframe|@import|url\((?!#)/i);
    // Every reference inside the drawings is to the same page, and unique in it.
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((match) => match[1]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [, id] of html.matchAll(/url\(#([^)]+)\)/g)) expect(ids).toContain(id);
    expect(html).not.toMatch(/\s(?:src|href)="https?:/);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });
});
