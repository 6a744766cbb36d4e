import { copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserAvailable, launchChromium } from '../browser.js';
import { repo } from '../helpers.js';
import { buildRtlSample, type RtlSample } from './rtl-samples.js';

/**
 * Screenshots land here on every run (overwritten, kept after the run to be looked at). With
 * DIGEST_DOCS_SCREENSHOTS=1 they are also copied to docs/images/rtl-<language>.png: a test run
 * does not rewrite committed files unless asked to.
 */
const screens = join(tmpdir(), 'digest-rtl-browser');

/** A stand-in for the hero photo, so the screenshots show the layout with an image in place. */
const photo = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="600" viewBox="0 0 1200 600">
<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#f6c27a"/><stop offset="1" stop-color="#e07a4f"/></linearGradient></defs>
<rect width="1200" height="600" fill="url(#sky)"/><circle cx="900" cy="230" r="70" fill="#fff3d6"/>
<path d="M0 420 Q300 330 600 400 T1200 380 V600 H0Z" fill="#c9a36b"/><rect x="180" y="380" width="320" height="90" fill="#f4f1ea"/>
<g fill="#1f3b5a">${[0, 1, 2, 3, 4].map((i) => `<rect x="${560 + i * 110}" y="${360 - i * 6}" width="90" height="40" transform="skewX(-20)"/>`).join('')}</g></svg>`;

/** The Arabic and Hebrew samples as a phone draws them: real Chromium at 375 px. */
describe.runIf(browserAvailable())('rtl issues in a browser', () => {
  let browser: Browser;
  const pages = new Map<RtlSample, Page>();

  beforeAll(async () => {
    mkdirSync(screens, { recursive: true });
    browser = await launchChromium();
    for (const language of ['ar', 'he'] as const) {
      const html = (await buildRtlSample(language)).web;
      const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
      // Nothing leaves the machine: the hero photo is drawn here, everything else is refused.
      await page.route('**/*', (route) =>
        route.request().resourceType() === 'image' ? route.fulfill({ contentType: 'image/svg+xml', body: photo }) : route.abort(),
      );
      await page.setContent(html, { waitUntil: 'load' });
      pages.set(language, page);
    }
  });
  afterAll(async () => browser?.close());

  describe.each(['ar', 'he'] as const)('%s', (language) => {
    const page = () => pages.get(language)!;

    it('reads right to left: the page and its paragraphs are rtl and right-aligned', async () => {
      const found = await page().evaluate(() => {
        const article = document.querySelector('[role="article"]')!;
        const paragraph = document.querySelector('.prose p')!;
        const style = getComputedStyle(paragraph);
        return {
          html: document.documentElement.dir,
          article: getComputedStyle(article).direction,
          direction: style.direction,
          align: style.textAlign,
          // The masthead's name, the date and the title: template text, not prose.
          title: getComputedStyle(document.querySelector('h1')!).direction,
          titleAlign: getComputedStyle(document.querySelector('h1')!.parentElement!).textAlign,
        };
      });
      expect(found.html).toBe('rtl');
      expect(found.article).toBe('rtl');
      expect(found.direction).toBe('rtl');
      expect(['right', 'start']).toContain(found.align);
      expect(found.title).toBe('rtl');
      expect(found.titleAlign).toBe('right');
    });

    it('keeps the English quote in its own direction (dir="auto")', async () => {
      const quote = await page().evaluate(() => getComputedStyle(document.querySelector('.prose blockquote p')!).direction);
      expect(quote).toBe('ltr');
    });

    it('has no sideways scroll at 375 px', async () => {
      const scrollWidth = await page().evaluate(() => document.documentElement.scrollWidth);
      expect(scrollWidth).toBeLessThanOrEqual(375);
    });

    it('indents the summary list on the right', async () => {
      const inset = await page().evaluate(() => {
        const list = document.querySelector('.summary ul')!.getBoundingClientRect();
        const item = document.querySelector('.summary li')!.getBoundingClientRect();
        return { right: list.right - item.right, left: item.left - list.left };
      });
      expect(inset.right).toBe(20);
      expect(inset.left).toBe(0);
    });

    it('puts the related card’s accent border on the right', async () => {
      const border = await page().evaluate(() => {
        const style = getComputedStyle(document.querySelector('.related table td')!);
        return { right: style.borderRightWidth, left: style.borderLeftWidth, arrow: document.querySelector('.related a')!.parentElement!.textContent!.includes('←') };
      });
      expect(border).toEqual({ right: '4px', left: '0px', arrow: true });
    });

    it('sets the callout’s button on the right', async () => {
      const gap = await page().evaluate(() => {
        const callout = document.querySelector('.callout')!.getBoundingClientRect();
        const button = document.querySelector('.callout a[href$="/support"]')!.closest('table')!.getBoundingClientRect();
        return { right: callout.right - button.right, left: button.left - callout.left };
      });
      expect(gap.right).toBe(32);
      expect(gap.left).toBeGreaterThan(gap.right);
    });

    it('mirrors the blockquote: its rule and padding on the right', async () => {
      const quote = await page().evaluate(() => {
        const style = getComputedStyle(document.querySelector('.prose blockquote')!);
        return { border: style.borderRightWidth, borderLeft: style.borderLeftWidth, padding: style.paddingRight, paddingLeft: style.paddingLeft };
      });
      expect(quote).toEqual({ border: '3px', borderLeft: '0px', padding: '16px', paddingLeft: '0px' });
    });

    it('looks right (screenshot)', async () => {
      const file = join(screens, `rtl-${language}.png`);
      await page().screenshot({ path: file, fullPage: true });
      if (process.env.DIGEST_DOCS_SCREENSHOTS === '1') copyFileSync(file, join(repo, 'docs', 'images', `rtl-${language}.png`));
    });
  });
});
