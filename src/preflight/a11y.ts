import { existsSync } from 'node:fs';
import type { Diagnostic } from '../issue/diagnostic.js';
import type { CheckResult, PreflightCheck, PreflightContext } from './check.js';
import { SourceLines } from './source-lines.js';

/**
 * axe-core in real Chromium (playwright-core drives Debian's, or DIGEST_CHROMIUM's; never a
 * downloaded browser) on the built email, at a phone's width and the email's own, in light and in
 * dark: four runs over one page in one browser. The page gets no network at all: every request it
 * makes is aborted (images show their alt text, as in a client that blocks them), so a run never
 * waits on a host.
 */
export const a11yCheck: PreflightCheck = {
  id: 'a11y',
  title: 'accessibility (axe-core in Chromium: 375 and 600 px, light and dark)',
  run: (context) => checkA11y(context),
};

export const VIEWS: readonly View[] = [
  { width: 375, scheme: 'light' },
  { width: 600, scheme: 'light' },
  { width: 375, scheme: 'dark' },
  { width: 600, scheme: 'dark' },
];

export interface View {
  width: number;
  scheme: 'light' | 'dark';
}

/** WCAG 2.0 and 2.1 A and AA, and axe's best practices (heading order, empty headings…). */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

/**
 * Rules that cannot hold for an email: a client shows the message inside its own page, whose
 * landmarks (main, navigation) are the client's, and many strip an email's own. Every part of the
 * email is "outside a landmark" there, by design.
 */
export const AXE_RULES_OFF = ['region', 'landmark-one-main'];

const DEFAULT_CHROMIUM = '/usr/bin/chromium';
/** The most elements named per rule; the rest are counted. */
const PER_RULE = 10;

export interface A11yOptions {
  env?: NodeJS.ProcessEnv;
  /** The whole check, browser start included. */
  timeoutMs?: number;
}

/** One axe violation on one element, as the page reported it. */
interface Finding {
  rule: string;
  impact: string | null;
  help: string;
  target: string;
  text: string;
  src?: string;
  href?: string;
  summary?: string;
  views: View[];
}

export async function checkA11y(context: PreflightContext, options: A11yOptions = {}): Promise<CheckResult> {
  const env = options.env ?? process.env;
  const executablePath = env.DIGEST_CHROMIUM?.trim() || DEFAULT_CHROMIUM;
  if (!existsSync(executablePath)) {
    return {
      check: 'a11y',
      diagnostics: [],
      skipped: env.DIGEST_CHROMIUM?.trim()
        ? `Chromium is not at ${executablePath} (DIGEST_CHROMIUM)`
        : `Chromium is not installed (apt-get install chromium, or set DIGEST_CHROMIUM to a Chromium or Chrome executable)`,
    };
  }
  let chromium: typeof import('playwright-core').chromium;
  let axe: { source: string; version: string };
  try {
    chromium = (await import('playwright-core')).chromium;
    axe = (await import('axe-core')).default;
  } catch (error) {
    return { check: 'a11y', diagnostics: [], skipped: `playwright-core or axe-core cannot be loaded (${(error as Error).message.split('\n')[0]}): npm install` };
  }

  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 60_000;
  const file = context.issue.file;
  let findings: Finding[];
  let unsure: Map<string, string>;
  // The timeout and the caller's signal both end the browser, which ends whatever waits on it.
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Error(`no result within ${timeoutMs / 1000} s`)), timeoutMs);
  const onAbort = () => stop.abort(new Error('stopped'));
  context.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    ({ findings, unsure } = await runAxe(chromium, executablePath, context.edition.web, axe.source, stop.signal));
  } catch (error) {
    const reason = stop.signal.aborted ? (stop.signal.reason as Error) : (error as Error);
    return { check: 'a11y', diagnostics: [{ code: 'a11y-check-failed', severity: 'error', message: `axe-core in Chromium failed: ${reason.message.split('\n')[0]}`, file }] };
  } finally {
    clearTimeout(timer);
    context.signal?.removeEventListener('abort', onAbort);
  }
  const ms = Math.round(performance.now() - started);
  const lines = new SourceLines(context.source);
  const diagnostics = toDiagnostics(findings, lines, file);
  const notes = [`${VIEWS.length} runs (375 and 600 px, light and dark) in ${ms} ms, axe-core ${axe.version}`];
  for (const [rule, help] of unsure) notes.push(`to check by eye: ${rule} (${help}): axe could not decide for some elements`);
  return { check: 'a11y', diagnostics, notes, ms };
}

async function runAxe(
  chromium: typeof import('playwright-core').chromium,
  executablePath: string,
  html: string,
  axeSource: string,
  signal: AbortSignal,
): Promise<{ findings: Finding[]; unsure: Map<string, string> }> {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    // No network but loopback here, and the page gets none at all: keep Chromium from phoning home.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const close = () => void browser.close().catch(() => {});
  if (signal.aborted) close();
  signal.addEventListener('abort', close, { once: true });
  try {
    const page = await browser.newPage({ viewport: { width: VIEWS[0]!.width, height: 800 }, colorScheme: VIEWS[0]!.scheme });
    // Every request the email makes (images, fonts, tracking pixels) is refused: nothing leaves.
    await page.route('**/*', (route) => route.abort('blockedbyclient'));
    await page.setContent(html, { waitUntil: 'load', timeout: 20_000 });
    await page.addScriptTag({ content: axeSource });

    const byKey = new Map<string, Finding>();
    const unsure = new Map<string, string>();
    for (const view of VIEWS) {
      if (signal.aborted) throw signal.reason;
      await page.setViewportSize({ width: view.width, height: 800 });
      await page.emulateMedia({ colorScheme: view.scheme });
      const result = await page.evaluate(inPage, { tags: AXE_TAGS, off: AXE_RULES_OFF });
      for (const found of result.violations) {
        const key = `${found.rule}\0${found.target}`;
        const known = byKey.get(key);
        if (known) known.views.push(view);
        else byKey.set(key, { ...found, views: [view] });
      }
      for (const [rule, help] of result.incomplete) unsure.set(rule, help);
    }
    return { findings: [...byKey.values()], unsure };
  } finally {
    signal.removeEventListener('abort', close);
    await browser.close().catch(() => {});
  }
}

// The page's own globals, for the function below (tsconfig has no DOM library: nothing else here runs in a page).
declare const axe: { run(context: unknown, options: unknown): Promise<AxeResults> };
declare const document: { querySelector(selector: string): PageElement | null };
interface PageElement {
  innerText?: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  closest(selector: string): PageElement | null;
  tagName: string;
}
interface AxeNode {
  target: unknown[];
  failureSummary?: string;
  any: { id: string; data?: Record<string, unknown> | null }[];
}
interface AxeResults {
  violations: { id: string; impact: string | null; help: string; nodes: AxeNode[] }[];
  incomplete: { id: string; help: string }[];
}

/**
 * Runs in the page (serialised by playwright: self-contained, no imports): axe over the document,
 * and for each element it faults, what can lead back to the issue's source: its text, an image's
 * src or alt, a link's href.
 */
async function inPage(options: { tags: string[]; off: string[] }) {
  const results = await axe.run(document, {
    runOnly: { type: 'tag', values: options.tags },
    rules: Object.fromEntries(options.off.map((id) => [id, { enabled: false }])),
    resultTypes: ['violations', 'incomplete'],
  });
  const violations = [];
  for (const violation of results.violations) {
    for (const node of violation.nodes) {
      const target = node.target.map((part) => (Array.isArray(part) ? part.join(' ') : String(part))).join(' ');
      const element = document.querySelector(String(node.target[node.target.length - 1]));
      const text = (element?.innerText ?? element?.textContent ?? '').replace(/\s+/g, ' ').trim();
      const image = element?.tagName === 'IMG' ? element : null;
      const link = element?.closest('a');
      const contrast = violation.id === 'color-contrast' ? node.any.find((check) => check.id === 'color-contrast')?.data : undefined;
      violations.push({
        rule: violation.id,
        impact: violation.impact,
        help: violation.help,
        target,
        text: text.slice(0, 120),
        src: image?.getAttribute('src') ?? undefined,
        href: link?.getAttribute('href') ?? undefined,
        summary: contrast
          ? `${String(contrast.fgColor)} on ${String(contrast.bgColor)}, ${String(contrast.contrastRatio)}:1 where ${String(contrast.expectedContrastRatio).replace(/:1$/, '')}:1 is needed`
          : undefined,
      });
    }
  }
  return { violations, incomplete: results.incomplete.map((rule) => [rule.id, rule.help] as [string, string]) };
}

/** One diagnostic per rule and element, the views it failed in said; critical and serious are errors. */
function toDiagnostics(findings: Finding[], lines: SourceLines, file: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const byRule = new Map<string, Finding[]>();
  for (const finding of findings) byRule.set(finding.rule, [...(byRule.get(finding.rule) ?? []), finding]);
  for (const [rule, group] of byRule) {
    const severity = group[0]!.impact === 'critical' || group[0]!.impact === 'serious' ? 'error' : 'warning';
    for (const finding of group.slice(0, PER_RULE)) {
      const what = finding.text ? `“${clip(finding.text, 60)}”` : finding.src ? `the image ${finding.src}` : finding.href ? `the link to ${finding.href}` : finding.target;
      const detail = finding.summary ? ` (${finding.summary})` : '';
      diagnostics.push({
        code: `a11y-${rule}`,
        severity,
        message: `${finding.help}: ${what}${detail}, ${views(finding.views)}`,
        file,
        line: lineOf(finding, lines),
      });
    }
    if (group.length > PER_RULE) {
      diagnostics.push({ code: `a11y-${rule}`, severity, message: `${group[0]!.help}: and ${group.length - PER_RULE} more elements`, file });
    }
  }
  return diagnostics;
}

function lineOf(finding: Finding, lines: SourceLines): number | undefined {
  return (finding.text ? lines.lineOfText(finding.text) : undefined) ?? (finding.src ? lines.lineOf(finding.src) : undefined) ?? (finding.href ? lines.lineOf(finding.href) : undefined);
}

/** `at 375 and 600 px, light and dark`, or the views one by one when they are not a full grid. */
export function views(seen: View[]): string {
  const widths = [...new Set(seen.map((view) => view.width))].sort((a, b) => a - b);
  const schemes = [...new Set(seen.map((view) => view.scheme))];
  if (widths.length * schemes.length === seen.length) {
    const order = (['light', 'dark'] as const).filter((scheme) => schemes.includes(scheme));
    return `at ${widths.join(' and ')} px, ${order.join(' and ')}`;
  }
  return `at ${seen.map((view) => `${view.width} px ${view.scheme}`).join(', ')}`;
}

function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1).trimEnd()}…`;
}
