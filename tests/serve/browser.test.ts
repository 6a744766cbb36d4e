/**
 * Real Chromium (/usr/bin/chromium) opens a reader's unsubscribe link: the page alone leaves them
 * subscribed, as a mail scanner following the link must; pressing the button unsubscribes them.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { browserAvailable, launchChromium } from '../browser.js';
import { tempDir } from '../audience/databases.js';
import { serve } from './helpers.js';

const available = browserAvailable();

describe.skipIf(!available)('the unsubscribe page in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  test('opening the link changes nothing; the confirm button unsubscribes, recorded as "page"', async () => {
    const s = await serve(`sqlite:${join(await tempDir(), 'digest.db')}`);
    await s.subscribe('reader@example.org');
    const page = await browser.newPage();
    try {
      const link = s.url + s.linkFor('reader@example.org');
      const opened = await page.goto(link);
      expect(opened!.status()).toBe(200);
      await expect(page.title()).resolves.toContain('The Test Gazette');
      expect(await page.textContent('.address')).toBe('r•••r@e•••.org');
      // Reloads, prefetches and scanners are all GETs.
      await page.reload();
      expect((await s.store.get('reader@example.org'))!.status).toBe('subscribed');

      const [answer] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      expect(answer!.status()).toBe(200);
      expect(answer!.request().method()).toBe('POST');
      expect(page.url()).toBe(link);
      expect(await page.textContent('h1')).toBe('You are unsubscribed');
      expect(await s.store.get('reader@example.org')).toMatchObject({ status: 'unsubscribed', withdrawnHow: 'page' });

      await page.goto(link);
      expect(await page.textContent('h1')).toBe('You are unsubscribed');
      expect(await page.locator('button').count()).toBe(0);
    } finally {
      await page.close();
    }
  });
});
