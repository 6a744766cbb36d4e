/**
 * The whole sign-up as a reader lives it, in real Chromium (/usr/bin/chromium): the subscribe page,
 * the form, the confirmation at a real SMTP server on loopback, its link (whose GET changes
 * nothing), the button; then the next `digest send` (the compiled CLI) reaches the new reader
 * exactly once, and a rerun sends nothing more. On SQLite and PostgreSQL.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { onEachDatabase, tempDir } from '../audience/databases.js';
import { browserAvailable, launchChromium } from '../browser.js';
import { fixture, runCli, tempProject } from '../helpers.js';
import { sinkForSuite } from '../smtp-sink.js';
import { SECRET, serve } from './helpers.js';

const available = browserAvailable();

const config = `name: The Test Gazette
tagline: The valley's week in ten minutes
from: "Test Gazette <news@gazette.example>"
address: "1 Press Lane, Testville"
baseUrl: https://gazette.example/news
signup:
  enabled: true
  tags: [weekly]
`;

onEachDatabase((target) => {
  describe.skipIf(!available)('a reader signs up in Chromium and gets the next issue once', () => {
    const sink = sinkForSuite();
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    test('subscribe page → form → confirmation email → link (GET changes nothing) → button → digest send reaches them once', async () => {
      const db = await target.fresh();
      const root = tempProject({ 'issues/week.md': fixture('issues', 'complete.md') }, config);
      expect((await runCli(['subscribers', 'add', 'bo@example.org', '--tag', 'local', '--db', db], { cwd: root })).code).toBe(0);
      const s = await serve(db, {
        config,
        signupVia: sink().url,
        editions: [
          { slug: 'river-week', title: 'The river week', date: '2026-11-20' },
          { slug: 'market-week', title: 'The market week', date: '2026-11-27' },
        ],
      });
      const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
      const errors: string[] = [];
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      try {
        await page.goto(`${s.url}/news/subscribe`);
        expect(await page.textContent('h1')).toBe('Subscribe to The Test Gazette');
        // The newest issues first, linking into the archive.
        expect(await page.locator('.latest a').allTextContents()).toEqual(['The market week', 'The river week']);
        expect(await page.locator('.latest a').first().getAttribute('href')).toBe('issues/market-week/');
        // It fits a phone: no sideways scrolling.
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
        // Reached by its labels, as a screen reader does; the honeypot is hidden from it.
        await page.getByLabel('Email address').fill('wren@example.org');
        await page.getByLabel('Name (optional)').fill('Wren Castellano');
        expect(await page.getByRole('textbox', { name: 'Leave this empty' }).count()).toBe(0);
        expect(await page.getByRole('textbox').count()).toBe(2);
        const [answer] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Subscribe' }).click()]);
        expect(answer!.status()).toBe(200);
        expect(await page.textContent('h1')).toBe('Check your inbox');

        await expect.poll(() => sink().received.filter((message) => message.recipient === 'wren@example.org').length, { timeout: 15_000 }).toBe(1);
        const confirmation = sink().received.find((message) => message.recipient === 'wren@example.org')!;
        expect(confirmation.parsed.subject).toBe('Confirm your subscription');
        const link = new URL(/https:\/\/gazette\.example\/news\/confirm\?token=[^\s>\]]+/.exec(String(confirmation.parsed.text))![0]!);
        const local = `${s.url}${link.pathname}${link.search}`;

        // The link opened (and reloaded, as scanners and prefetchers do) subscribes nobody.
        await page.goto(local);
        await page.reload();
        expect(await page.textContent('h1')).toBe('Confirm your subscription');
        expect(await s.store.get('wren@example.org')).toBeUndefined();
        const [confirmed] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Yes, subscribe me' }).click()]);
        expect(confirmed!.status()).toBe(200);
        expect(await page.textContent('h1')).toBe('You are subscribed');
        expect(await s.store.get('wren@example.org')).toMatchObject({ status: 'subscribed', name: 'Wren Castellano', tags: ['weekly'], consentSource: 'form' });
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
      await s.stop();

      const send = () => runCli(['send', 'issues/week.md', '--db', db, '--smtp', sink().url, '--yes', '--json'], { cwd: root, env: { DIGEST_SECRET: SECRET } });
      const first = await send();
      expect(first.code, first.stderr).toBe(0);
      const second = await send();
      expect(second.code, second.stderr).toBe(0);
      const issues = sink().received.filter((message) => message.parsed.subject !== 'Confirm your subscription');
      expect(issues.map((message) => message.recipient).sort()).toEqual(['bo@example.org', 'wren@example.org']);
      expect(String(issues.find((message) => message.recipient === 'wren@example.org')!.parsed.text)).toContain('Wren');
    });
  });
});

describe.skipIf(!available)('the form snippet digest init writes, pasted into another site', () => {
  const sink = sinkForSuite();

  test('posts from that page to digest serve, which mails the confirmation', async () => {
    const root = tempProject({}, null);
    expect((await runCli(['init', '--yes', '--base-url', 'https://gazette.example/news', '--name', 'The Test Gazette'], { cwd: root })).code).toBe(0);
    const snippet = readFileSync(join(root, 'subscribe-form.html'), 'utf8');
    expect(snippet).toContain('action="https://gazette.example/news/subscribe"');

    const s = await serve(`sqlite:${join(await tempDir(), 'digest.db')}`, { config, signupVia: sink().url });
    // The publisher's own page, on another origin, with the action pointing at this test's server.
    const site = createServer((_, response) => {
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(`<!doctype html><html lang="en"><head><title>Our site</title></head><body><main><h1>Our site</h1>${snippet.replace('https://gazette.example', s.url)}</main></body></html>`);
    });
    await new Promise<void>((listening) => site.listen(0, '127.0.0.1', listening));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
      await page.getByLabel('Email address').fill('finch@example.org');
      const [answer] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Subscribe' }).click()]);
      expect(answer!.status()).toBe(200);
      expect(await page.textContent('h1')).toBe('Check your inbox');
      await expect.poll(() => sink().received.filter((message) => message.recipient === 'finch@example.org').length, { timeout: 15_000 }).toBe(1);
      // The embedding page is recorded as where the consent was given.
      const [request] = await s.store.dialect.db.selectFrom('signups').selectAll().execute();
      expect(request!.source).toMatch(/^form: http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await browser.close();
      site.close();
    }
  });
});
