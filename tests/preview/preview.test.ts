import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/audience/open.js';
import { startPreview } from '../../src/preview/index.js';
import { browserAvailable, launchChromium } from '../browser.js';
import { fixture, sampleConfig, tempProject } from '../helpers.js';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { simpleParser } from 'mailparser';
import { startSink } from '../smtp-sink.js';

const footer = (words: string) => `<mj-section><mj-column><mj-text>${words} <a href="\\{{unsubscribe_url}}">leave</a></mj-text></mj-column></mj-section>`;
const pixel = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** The live preview, driven as an editor would: a real server on 127.0.0.1 and real Chromium. */
describe.runIf(browserAvailable())('digest preview', () => {
  let root: string;
  let issue: string;
  let preview: Awaited<ReturnType<typeof startPreview>>;
  let browser: Browser;
  let page: Page;
  const original = fixture('issues', 'complete.md').replace(
    '## Library',
    '## Library\n\n![A map of the reading room](images/map.png "Where to find things.")',
  );

  beforeAll(async () => {
    root = tempProject(
      {
        'issues/week.md': original,
        'issues/images/map.png': pixel,
        'secret.txt': 'not for the browser',
        'templates/default/partials/footer.mjml.hbs': footer('Gazette footer'),
      },
      `${sampleConfig}testAddresses: [editor@gazette.example]\n`,
    );
    issue = join(root, 'issues', 'week.md');
    // A list with one reader: the preview offers them first, before its own samples.
    const store = await openStore(`sqlite:${join(root, 'digest.db')}`, { create: true });
    await store.upsert([{ email: 'wren@example.org', name: 'Wren Castellano', international: false }], { source: 'test' });
    await store.close();
    const cwd = process.cwd();
    process.chdir(root);
    try {
      preview = await startPreview(issue, { port: 0, host: '127.0.0.1', databaseUrl: `sqlite:${join(root, 'digest.db')}` });
    } finally {
      process.chdir(cwd);
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(preview.url);
  });

  afterAll(async () => {
    await browser?.close();
    await preview?.close();
  });

  const email = (): Frame => page.frame({ url: /\/email\.html/ })!;

  async function nextBuild() {
    const version = preview.session.state.version;
    await expect.poll(() => preview.session.state.version, { timeout: 10_000 }).toBeGreaterThan(version);
  }

  it('binds to 127.0.0.1', () => {
    expect(preview.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('shows the issue with subject and preheader as an inbox would, and its size against the clip', async () => {
    await expect.poll(() => email()?.locator('h1').textContent()).toBe('Bridge reopens, and the budget vote');
    expect(await page.locator('#subject').textContent()).toBe('Bridge reopens; budget vote Tuesday');
    expect(await page.locator('#preheader').textContent()).toContain('The Mill Street bridge is open again');
    expect(await page.locator('#size').textContent()).toMatch(/^\d+\.\d KB of Gmail's 102 KB clip/);
    expect(await page.locator('#findings').textContent()).toContain('Nothing to report.');
  });

  it('fills merge fields with a reader from the list, or a sample, and shows the fallback for one without a name', async () => {
    expect(await page.locator('#reader option').allTextContents()).toEqual([
      'Wren Castellano <wren@example.org>',
      'Alesia Moreno (sample)',
      'A reader with no name (sample)',
    ]);
    await expect.poll(() => email().locator('.prose p').first().textContent()).toContain('Good morning, Wren.');
    await page.selectOption('#reader', '1');
    await expect.poll(() => email()?.locator('.prose p').first().textContent()).toContain('Good morning, Alesia.');
    await page.selectOption('#reader', '2');
    await expect.poll(() => email()?.locator('.prose p').first().textContent()).toContain('Good morning, neighbour.');
    await page.selectOption('#reader', '0');
  });

  it('loads the images the issue references from beside it', async () => {
    await expect.poll(() => email()?.locator('img[alt="A map of the reading room"]').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1);
  });

  it('has no sideways scroll in the phone view at 375 px', async () => {
    await page.click('[data-view="phone"]');
    await expect.poll(() => email()?.evaluate(() => window.innerWidth)).toBe(375);
    const overflow = await email().evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.click('[data-view="desktop"]');
  });

  it('switches to dark mode, the plain text and the HTML source', async () => {
    await page.click('[data-view="dark"]');
    await expect
      .poll(() => email()?.evaluate(() => getComputedStyle(document.querySelector('.paper > table')!).backgroundColor))
      .toBe('rgb(27, 31, 38)');
    await page.click('[data-view="text"]');
    await expect.poll(() => page.locator('pre.part').textContent()).toContain('BRIDGE REOPENS, AND THE BUDGET VOTE');
    await page.click('[data-view="source"]');
    await expect.poll(() => page.locator('pre.part').textContent()).toContain('<!doctype html>');
    await page.click('[data-view="desktop"]');
  });

  it('updates itself when the issue is saved, keeping the scroll position', async () => {
    // Scroll once the frame has settled from the view switches above: the desktop view, loaded, taller than the window.
    await expect.poll(() => email()?.evaluate(() => document.readyState === 'complete' && window.innerWidth > 375 && document.documentElement.scrollHeight - window.innerHeight > 400), { timeout: 10_000 }).toBe(true);
    await expect
      .poll(async () => {
        await email().evaluate(() => window.scrollTo(0, 400));
        return email().evaluate(() => window.scrollY);
      }, { timeout: 10_000 })
      .toBe(400);
    writeFileSync(issue, original.replace('title: Bridge reopens, and the budget vote', 'title: Bridge reopens at last'));
    await nextBuild();
    await expect.poll(() => email()?.locator('h1').textContent(), { timeout: 10_000 }).toBe('Bridge reopens at last');
    // A loaded machine may take more than the default second to restore it.
    await expect.poll(() => email()?.evaluate(() => window.scrollY), { timeout: 10_000 }).toBe(400);
  });

  it('shows a broken save with its file and line, keeps running, and recovers when fixed', async () => {
    writeFileSync(issue, original.replace(':::callout[Local news needs you]', ':::calout[Local news needs you]'));
    await nextBuild();
    await expect.poll(() => page.locator('#problem').textContent(), { timeout: 10_000 }).toMatch(/week\.md:\d+: unknown directive :::calout/);
    // The last good issue stays on screen behind the error.
    expect(await email().locator('h1').textContent()).toBe('Bridge reopens at last');

    writeFileSync(issue, original);
    await nextBuild();
    await expect.poll(() => page.locator('#problem').isVisible(), { timeout: 10_000 }).toBe(false);
    await expect.poll(() => email()?.locator('h1').textContent()).toBe('Bridge reopens, and the budget vote');
  });

  it('rebuilds when a template partial or the config changes', async () => {
    expect(await email().locator('body').textContent()).toContain('Gazette footer');
    writeFileSync(join(root, 'templates', 'default', 'partials', 'footer.mjml.hbs'), footer('Edited footer'));
    await nextBuild();
    await expect.poll(() => email()?.locator('body').textContent(), { timeout: 10_000 }).toContain('Edited footer');

    writeFileSync(join(root, 'digest.config.yaml'), `${sampleConfig.replace('The Test Gazette', 'The Renamed Gazette')}testAddresses: [editor@gazette.example]\n`);
    await nextBuild();
    await expect.poll(() => email()?.locator('body').textContent(), { timeout: 10_000 }).toContain('The Renamed Gazette');
  });

  it('refuses paths outside what the issue references, and outside the project', async () => {
    const base = preview.url.replace(/\/$/, '');
    for (const path of ['/files/../secret.txt', '/files/..%2Fsecret.txt', '/files/%2e%2e/%2e%2e/etc/passwd', '/files/week.md', '/secret.txt', '/files/images/other.png']) {
      const response = await fetch(base + path);
      expect(response.status, path).toBe(404);
    }
    expect((await fetch(`${base}/files/images/map.png`)).status).toBe(200);
  });

  it('answers only to its own host name', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((done) => {
      request(preview.url, { headers: { host: 'attacker.example' } }, (response) => done(response.statusCode!)).end();
    });
    expect(status).toBe(421);
  });

  it('sends a test only with the session token: another page cannot trigger it', async () => {
    const base = preview.url.replace(/\/$/, '');
    const forged = await fetch(`${base}/api/test-send`, { method: 'POST', body: '{}' });
    expect(forged.status).toBe(403);
    const wrong = await fetch(`${base}/api/test-send`, { method: 'POST', headers: { 'x-digest-token': 'guess' }, body: '{}' });
    expect(wrong.status).toBe(403);
    expect(existsSync(join(root, 'outbox'))).toBe(false);

    await page.click('#send');
    await expect.poll(() => page.locator('#sent').textContent(), { timeout: 10_000 }).toMatch(/^Sent to editor@gazette\.example via the outbox/);
    // The same channel as `digest send --via outbox:…`: one file per reader, in the issue's folder.
    const [message] = readdirSync(join(root, 'outbox', 'week'));
    const eml = readFileSync(join(root, 'outbox', 'week', message!), 'utf8');
    expect(eml).toMatch(/^Subject: \[TEST\] Bridge reopens; budget vote Tuesday$/m);
    expect(eml).toMatch(/^To: "Wren Castellano" <editor@gazette\.example>$/m);
    expect(eml).toMatch(/^X-Digest-Test: yes$/m);
    expect((await simpleParser(eml)).text).toContain('Good morning, Wren.');
  });

  it('sends the test through the route a real send takes, with the one-click unsubscribe headers and a DKIM signature an independent verifier accepts', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const sink = await startSink();
    const saved = { ...process.env };
    Object.assign(process.env, {
      DIGEST_DELIVERY_URL: sink.url,
      DIGEST_DKIM_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      DIGEST_DKIM_SELECTOR: 'preview2026',
    });
    try {
      await page.click('#send');
      await expect.poll(() => page.locator('#sent').textContent(), { timeout: 10_000 }).toBe(`Sent to editor@gazette.example via smtp://127.0.0.1:${sink.port}`);
    } finally {
      for (const name of ['DIGEST_DELIVERY_URL', 'DIGEST_DKIM_PRIVATE_KEY', 'DIGEST_DKIM_SELECTOR']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
      await sink.close();
    }
    expect(sink.received).toHaveLength(1);
    const [received] = sink.received;
    expect(received!.recipient).toBe('editor@gazette.example');
    const head = String(received!.raw).split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');
    expect(head).toMatch(/^List-Unsubscribe: <https:\/\/gazette\.example\/[^>]+>/m);
    expect(head).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    const record = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
    const verdict = await dkimVerify(received!.raw, {
      resolver: async (name: string, type: string) => {
        if (name === 'preview2026._domainkey.gazette.example' && type === 'TXT') return [[record]];
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      },
    });
    expect(verdict.results[0]!.status.result).toBe('pass');
    const signed = String(received!.raw).match(/^DKIM-Signature:[\s\S]*?\bh=([^;]+);/m)![1]!.replace(/\s+/g, '').toLowerCase().split(':');
    expect(signed).toEqual(expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post']));
  });
});
