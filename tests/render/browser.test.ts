import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIssue } from '../../src/issue/load.js';
import { renderIssue } from '../../src/render/index.js';
import { browserAvailable, launchChromium } from '../browser.js';
import { configFor, fixtures, tempProject } from '../helpers.js';

/** The built email as a reader's client draws it: real Chromium, at phone and desktop widths. */
describe.runIf(browserAvailable())('the email in a browser', () => {
  let browser: Browser;
  let html: string;
  beforeAll(async () => {
    const root = tempProject();
    // Images are blocked below, as many clients do by default; layout must hold without them.
    html = (await renderIssue(await loadIssue(join(fixtures, 'issues', 'complete.md')), await configFor(root))).web;
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  async function open(width: number, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 800 }, colorScheme });
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load' });
    return page;
  }

  it('has no sideways scroll on a 375 px phone, and stacks to the screen width', async () => {
    const page = await open(375);
    const { scrollWidth, paper } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      paper: document.querySelector('.paper')!.getBoundingClientRect().width,
    }));
    expect(scrollWidth).toBeLessThanOrEqual(375);
    expect(paper).toBeLessThanOrEqual(375);
    await page.close();
  });

  it('is 600 px wide on a desktop, centred', async () => {
    const page = await open(1200);
    const box = await page.evaluate(() => {
      const rect = document.querySelector('.paper')!.getBoundingClientRect();
      return { width: rect.width, left: rect.left };
    });
    expect(box.width).toBe(600);
    expect(box.left).toBe(300);
    await page.close();
  });

  it('turns dark in dark mode, keeping text readable against its background', async () => {
    const light = await open(600, 'light');
    const dark = await open(600, 'dark');
    const colours = (page: Page) =>
      page.evaluate(() => {
        const cell = document.querySelector('.paper > table') as HTMLElement;
        const text = document.querySelector('.prose p') as HTMLElement;
        return { background: getComputedStyle(cell).backgroundColor, text: getComputedStyle(text).color };
      });
    expect(await colours(light)).toEqual({ background: 'rgb(255, 255, 255)', text: 'rgb(31, 41, 55)' });
    expect(await colours(dark)).toEqual({ background: 'rgb(27, 31, 38)', text: 'rgb(228, 230, 234)' });
    await light.close();
    await dark.close();
  });

  it('keeps the preheader out of sight', async () => {
    const page = await open(600);
    expect(await page.isVisible('.preheader')).toBe(false);
    await page.close();
  });
});
