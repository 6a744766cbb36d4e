import { beforeAll, describe, expect, it } from 'vitest';
import { checkA11y, views } from '../../src/preflight/a11y.js';
import type { CheckResult, PreflightContext } from '../../src/preflight/index.js';
import { browserAvailable } from '../browser.js';
import { contextFor, sampleConfigText, sampleIssueText } from './context.js';

/** Grey text on white (the config's brand.text), a heading that skips from h2 to h4, and a link with no words. */
const faultyIssue = `---
title: Low contrast and a skipped heading
date: 2024-03-08
subject: A test of faults
preheader: Faults on purpose.
---
Good morning. This opening paragraph is grey on white, which nobody over forty can read.

#### A heading four levels down

The river rose another foot overnight, and the ferry stopped at noon.

Read the [](https://example.org/empty-link) notes.

## The next section

More words about the bridge and the council vote on Tuesday night.
`;
const greyText = sampleConfigText.replace('brand:\n', 'brand:\n  text: "#bbbbbb"\n');

describe('where a finding was seen', () => {
  it('says the grid when it is whole, and the views one by one when not', () => {
    expect(views([{ width: 375, scheme: 'light' }, { width: 600, scheme: 'light' }, { width: 375, scheme: 'dark' }, { width: 600, scheme: 'dark' }])).toBe('at 375 and 600 px, light and dark');
    expect(views([{ width: 375, scheme: 'dark' }, { width: 600, scheme: 'dark' }])).toBe('at 375 and 600 px, dark');
    expect(views([{ width: 375, scheme: 'light' }])).toBe('at 375 px, light');
    expect(views([{ width: 375, scheme: 'light' }, { width: 600, scheme: 'dark' }])).toBe('at 375 px light, 600 px dark');
  });
});

describe('without Chromium', () => {
  let context: PreflightContext;
  beforeAll(async () => {
    context = await contextFor(sampleIssueText);
  });

  it('is skipped, and says how to get it', async () => {
    const result = await checkA11y(context, { env: { DIGEST_CHROMIUM: '/nonexistent/chromium' } });
    expect(result).toEqual({ check: 'a11y', diagnostics: [], skipped: 'Chromium is not at /nonexistent/chromium (DIGEST_CHROMIUM)' });
  });

  it('gives one error line when the browser will not start', async () => {
    const result = await checkA11y(context, { env: { DIGEST_CHROMIUM: '/bin/false' } });
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]).toMatchObject({ code: 'a11y-check-failed', severity: 'error', file: context.issue.file });
    expect(result.diagnostics[0]!.message).toMatch(/^axe-core in Chromium failed: .+/);
  });
});

describe.runIf(browserAvailable())('axe-core in Chromium', () => {
  let sample: CheckResult;
  let faulty: CheckResult;
  let faultyContext: PreflightContext;
  let sampleMs: number;
  beforeAll(async () => {
    const sampleContext = await contextFor(sampleIssueText);
    faultyContext = await contextFor(faultyIssue, greyText);
    const started = performance.now();
    sample = await checkA11y(sampleContext);
    sampleMs = performance.now() - started;
    faulty = await checkA11y(faultyContext);
  }, 120_000);

  it('finds nothing in the sample issue with the default template, light or dark, phone or desktop', () => {
    expect(sample.skipped).toBeUndefined();
    expect(sample.diagnostics).toEqual([]);
    expect(sample.notes?.[0]).toMatch(/^4 runs \(375 and 600 px, light and dark\) in \d+ ms, axe-core 4\.\d+\.\d+$/);
    console.log(`a11y: the sample issue's 4 runs took ${Math.round(sampleMs)} ms, Chromium's start included`);
  });

  it('finds grey text on white, in light mode only (dark mode has colours of its own), with the lines', () => {
    const contrast = faulty.diagnostics.filter((d) => d.code === 'a11y-color-contrast');
    expect(contrast.length).toBeGreaterThanOrEqual(5);
    for (const finding of contrast) {
      expect(finding.severity).toBe('error');
      expect(finding.message).toMatch(/^Elements must meet minimum color contrast ratio thresholds: “.+” \(#bbbbbb on #ffffff, 1\.91:1 where (4\.5|3):1 is needed\), at 375 and 600 px, light$/);
    }
    const line = (text: string) => contrast.find((d) => d.message.includes(text))?.line;
    expect(line('Good morning. This opening paragraph')).toBe(7);
    expect(line('The river rose another foot')).toBe(11);
    expect(line('More words about the bridge')).toBe(17);
    // The title, from the front matter.
    expect(line('Low contrast and a skipped heading')).toBe(2);
    // The template's own words have no line in the issue.
    expect(contrast.find((d) => d.message.includes('Was this forwarded to you?'))?.line).toBeUndefined();
  });

  it('finds the heading that skips a level, in every view, at its line', () => {
    expect(faulty.diagnostics.filter((d) => d.code === 'a11y-heading-order')).toEqual([
      {
        code: 'a11y-heading-order',
        severity: 'warning',
        message: 'Heading levels should only increase by one: “A heading four levels down”, at 375 and 600 px, light and dark',
        file: faultyContext.issue.file,
        line: 9,
      },
    ]);
  });

  it('finds the link without words by its address', () => {
    expect(faulty.diagnostics.filter((d) => d.code === 'a11y-link-name')).toEqual([
      {
        code: 'a11y-link-name',
        severity: 'error',
        message: 'Links must have discernible text: the link to https://example.org/empty-link, at 375 and 600 px, light and dark',
        file: faultyContext.issue.file,
        line: 13,
      },
    ]);
  });

  it('gives up after its timeout, closing the browser', async () => {
    const result = await checkA11y(faultyContext, { timeoutMs: 50 });
    expect(result.diagnostics).toEqual([{ code: 'a11y-check-failed', severity: 'error', message: 'axe-core in Chromium failed: no result within 0.05 s', file: faultyContext.issue.file }]);
  });
});
