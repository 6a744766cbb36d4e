import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPreview } from '../../src/preview/index.js';
import { browserAvailable, launchChromium } from '../browser.js';
import { fixture, sampleConfig, tempProject } from '../helpers.js';

/** The preflight on the preview's page: run by its button, its findings listed beside the email. */
describe.runIf(browserAvailable())('the preview runs the preflight', () => {
  let preview: Awaited<ReturnType<typeof startPreview>>;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const root = tempProject({ 'issues/week.md': fixture('issues', 'complete.md') }, sampleConfig);
    preview = await startPreview(join(root, 'issues', 'week.md'), { port: 0, host: '127.0.0.1', offline: true });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(preview.url);
  });

  afterAll(async () => {
    await browser?.close();
    await preview?.close();
  });

  it('lists every check when the button is pressed, the network ones skipped offline', async () => {
    await page.getByRole('button', { name: 'Run preflight' }).click();
    const findings = page.locator('#preflight-findings');
    await expect.poll(() => findings.locator('li.check').count(), { timeout: 60_000 }).toBe(4);
    await expect.poll(() => page.locator('#preflight-status').textContent(), { timeout: 60_000 }).toContain('Done (offline');
    const checks = await findings.locator('li.check').allTextContents();
    expect(checks[0]).toBe('dns: skipped (offline)');
    expect(checks[1]).toBe('links: skipped (offline)');
    expect(checks.slice(2).map((line) => line.split(':')[0])).toEqual(['spam', 'a11y']);
  });

  it('marks the results stale once the issue is rebuilt', async () => {
    await preview.session.rebuild();
    await expect.poll(() => page.locator('#preflight-status').textContent(), { timeout: 10_000 }).toBe('From an earlier build: run it again.');
  });

  it('starts a run only for the page itself: no token, no run', async () => {
    const response = await fetch(`${preview.url}api/preflight`, { method: 'POST' });
    expect(response.status).toBe(403);
  });
});
