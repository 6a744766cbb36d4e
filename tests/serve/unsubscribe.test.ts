/**
 * One-click unsubscribe (RFC 8058) and the confirm page, over HTTP against a real server on
 * 127.0.0.1, on SQLite and PostgreSQL.
 */
import { request } from 'node:http';
import { describe, expect, test } from 'vitest';
import { sealUnsubscribe, unsubscribeKey } from '../../src/delivery/unsubscribe.js';
import { onEachDatabase } from '../audience/databases.js';
import { CONFIG, hasStackTrace, serve } from './helpers.js';

const oneClick = (url: string) =>
  fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });

onEachDatabase((target) => {
  describe('one-click unsubscribe', () => {
    test('a POST of List-Unsubscribe=One-Click unsubscribes at once: 200, no redirect, when and how recorded', async () => {
      const s = await serve(await target.fresh());
      await s.subscribe('reader@example.org', 'other@example.org');
      const before = Date.now();
      const response = await oneClick(s.url + s.linkFor('reader@example.org'));
      expect(response.status).toBe(200);
      expect(response.headers.get('location')).toBeNull();
      const reader = await s.store.get('reader@example.org');
      expect(reader).toMatchObject({ status: 'unsubscribed', withdrawnHow: 'one-click' });
      expect(Date.parse(reader!.withdrawnAt!)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(reader!.withdrawnAt!)).toBeLessThanOrEqual(Date.now() + 1000);
      expect((await s.store.get('other@example.org'))!.status).toBe('subscribed');
      const [counts] = [await s.store.count()];
      expect(counts).toMatchObject({ total: 2, subscribed: 1, unsubscribed: 1 });
    });

    test('repeating the one-click POST is harmless: still 200, the first record kept', async () => {
      const s = await serve(await target.fresh());
      await s.subscribe('reader@example.org');
      const link = s.url + s.linkFor('reader@example.org');
      expect((await oneClick(link)).status).toBe(200);
      const first = await s.store.get('reader@example.org');
      for (let i = 0; i < 3; i++) expect((await oneClick(link)).status).toBe(200);
      expect(await s.store.get('reader@example.org')).toEqual(first);
      expect(s.logs.filter((entry) => entry.msg === 'unsubscribe').map((entry) => entry.changed)).toEqual([true, false, false, false]);
    });

    test('a multipart/form-data one-click body works too', async () => {
      const s = await serve(await target.fresh());
      await s.subscribe('reader@example.org');
      const form = new FormData();
      form.set('List-Unsubscribe', 'One-Click');
      const response = await fetch(s.url + s.linkFor('reader@example.org'), { method: 'POST', body: form, redirect: 'manual' });
      expect(response.status).toBe(200);
      expect((await s.store.get('reader@example.org'))!.status).toBe('unsubscribed');
    });

    test('an address that was never on the list (a send to a CSV list) is recorded as unsubscribed', async () => {
      const s = await serve(await target.fresh());
      expect((await oneClick(s.url + s.linkFor('stranger@example.org'))).status).toBe(200);
      expect(await s.store.get('stranger@example.org')).toMatchObject({ status: 'unsubscribed', withdrawnHow: 'one-click', consentSource: null });
    });

    test('an address erased at its owner’s request stays erased: the one-click answers 200 and records nothing', async () => {
      const s = await serve(await target.fresh());
      await s.subscribe('gone@example.org');
      await s.store.remove('gone@example.org');
      expect((await oneClick(s.url + s.linkFor('gone@example.org'))).status).toBe(200);
      expect(await s.store.get('gone@example.org')).toBeUndefined();
      expect(await s.store.isErased('gone@example.org')).toBe(true);
    });

    test('a POST without the one-click field changes nothing (400)', async () => {
      const s = await serve(await target.fresh());
      await s.subscribe('reader@example.org');
      const link = s.url + s.linkFor('reader@example.org');
      for (const body of ['', 'List-Unsubscribe=Maybe', 'unsubscribe=yes']) {
        const response = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
        expect(response.status).toBe(400);
      }
      expect((await fetch(link, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"List-Unsubscribe":"One-Click"}' })).status).toBe(415);
      expect((await s.store.get('reader@example.org'))!.status).toBe('subscribed');
    });
  });

  describe('forged, altered and truncated tokens', () => {
    test('are refused with 400 and a plain page, change nothing and record nothing', async () => {
      const s = await serve(await target.fresh());
      await s.subscribe('reader@example.org');
      const good = s.linkFor('reader@example.org');
      const token = good.slice(good.lastIndexOf('/') + 1);
      const prefix = good.slice(0, good.lastIndexOf('/') + 1);
      const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
      const otherKey = unsubscribeKey('another secret, also thirty-two characters or more');
      const bad = [
        token.slice(0, -1),
        token.slice(0, 20),
        flip(token, 10),
        flip(token, token.length - 3),
        `${token}A`,
        `${token}.x`,
        `u2${token.slice(2)}`,
        'u1.',
        'nonsense',
        sealUnsubscribe({ email: 'reader@example.org', issue: 'x' }, otherKey),
        encodeURIComponent('<script>alert(1)</script>'),
      ];
      for (const forged of bad) {
        for (const method of ['GET', 'POST']) {
          const response = await fetch(s.url + prefix + forged, {
            method,
            redirect: 'manual',
            ...(method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' } : {}),
          });
          expect(response.status, `${method} ${forged}`).toBe(400);
          const text = await response.text();
          expect(text).toContain('not valid');
          expect(text).not.toContain('reader@');
          expect(text).not.toContain('<script>');
          expect(hasStackTrace(text)).toBe(false);
        }
      }
      expect(await s.store.get('reader@example.org')).toMatchObject({ status: 'subscribed', withdrawnAt: null });
      expect((await s.store.count()).total).toBe(1);
    });
  });

  describe('the confirm page', () => {
    test('a GET names the newsletter and the partly masked address, and leaves the reader subscribed', async () => {
      const s = await serve(await target.fresh());
      await s.subscribe('odile.fairbanks@valleyledger.example');
      const link = s.url + s.linkFor('odile.fairbanks@valleyledger.example');
      for (let i = 0; i < 3; i++) {
        const response = await fetch(link);
        expect(response.status).toBe(200);
        expect(response.headers.get('cache-control')).toBe('no-store');
        expect(response.headers.get('referrer-policy')).toBe('no-referrer');
        const html = await response.text();
        expect(html).toContain('The Test Gazette');
        expect(html).toContain('o•••s@v•••.example');
        expect(html).not.toContain('odile.fairbanks');
        expect(html).toMatch(/<form method="post">[\s\S]*<button type="submit">/);
      }
      expect((await fetch(link, { method: 'HEAD' })).status).toBe(200);
      expect((await s.store.get('odile.fairbanks@valleyledger.example'))!.status).toBe('subscribed');
    });

    test('the page’s own POST (confirm=unsubscribe) unsubscribes, recorded as "page"', async () => {
      const s = await serve(await target.fresh());
      await s.subscribe('reader@example.org');
      const response = await fetch(s.url + s.linkFor('reader@example.org'), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'confirm=unsubscribe',
        redirect: 'manual',
      });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('You are unsubscribed');
      expect(await s.store.get('reader@example.org')).toMatchObject({ status: 'unsubscribed', withdrawnHow: 'page' });
    });

    test('everything from the config and the address is escaped in the page', async () => {
      const s = await serve(await target.fresh(), { config: `${CONFIG}name: "<img src=x onerror=alert(1)> & Co"\n`.replace('name: The Test Gazette\n', '') });
      const response = await fetch(s.url + s.linkFor('"<b>"@example.org'));
      const html = await response.text();
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; Co');
      expect(html).not.toContain('<img');
      expect(html).not.toContain('<b>');
    });
  });

  describe('other paths', () => {
    test('unknown paths are 404, other methods 405, and the health check answers JSON', async () => {
      const s = await serve(await target.fresh());
      for (const path of ['/nope', '/news/nope', '/news/unsubscribe/a/b', '/unsubscribe/x', '/news/issues/missing/']) {
        const response = await fetch(s.url + path, { redirect: 'manual' });
        expect(response.status, path).toBe(404);
        expect(hasStackTrace(await response.text())).toBe(false);
      }
      expect((await fetch(s.url + s.linkFor('a@example.org'), { method: 'DELETE' })).status).toBe(405);
      const health = await fetch(`${s.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const general = await fetch(`${s.url}/news/unsubscribe`);
      expect(general.status).toBe(200);
      expect(await general.text()).toContain('Unsubscribe from The Test Gazette');
    });

    test('a failure inside answers 500 without a stack trace, and the health check says 503', async () => {
      const s = await serve(await target.fresh(), { failingStore: true });
      const link = s.url + s.linkFor('reader@example.org');
      const response = await oneClick(link);
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(text).toContain('Something went wrong');
      expect(text).not.toContain('connection terminated');
      expect(hasStackTrace(text)).toBe(false);
      expect((await fetch(link)).status).toBe(500);
      expect((await fetch(`${s.url}/healthz`)).status).toBe(503);
      expect(s.logs.some((entry) => entry.level === 'error')).toBe(true);
    });

    test('path traversal out of the archive is refused', async () => {
      const s = await serve(await target.fresh());
      for (const path of ['/news/../../../etc/passwd', '/news/%2e%2e/%2e%2e/etc/passwd', '/news/..%2fdigest.config.yaml', '/news/.digest-archive.json']) {
        const status = await new Promise<number>((resolve, reject) => {
          const url = new URL(s.url);
          request({ host: url.hostname, port: url.port, path, method: 'GET' }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          })
            .on('error', reject)
            .end();
        });
        expect(status, path).toBe(404);
      }
    });

    test('each request is one JSON line in the access log, without the token or the address', async () => {
      const s = await serve(await target.fresh());
      await s.subscribe('reader@example.org');
      const link = s.linkFor('reader@example.org');
      await oneClick(s.url + link);
      await fetch(s.url + link);
      await fetch(`${s.url}/healthz`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const requests = s.logs.filter((entry) => entry.msg === 'request');
      expect(requests.map((entry) => [entry.method, entry.path, entry.status])).toEqual([
        ['POST', '/news/unsubscribe/…', 200],
        ['GET', '/news/unsubscribe/…', 200],
        ['GET', '/healthz', 200],
      ]);
      for (const entry of requests) expect(entry).toMatchObject({ time: expect.any(String), ms: expect.any(Number), bytes: expect.any(Number) });
      const all = JSON.stringify(s.logs);
      expect(all).not.toContain(link.slice(link.lastIndexOf('/') + 1));
      expect(all).not.toContain('reader@example.org');
    });
  });
});

onEachDatabase((target) => {
  test('a burst of concurrent one-click POSTs: every reader unsubscribed, each answered 200', async () => {
    const s = await serve(await target.fresh());
    const emails = Array.from({ length: 60 }, (_, i) => `reader${i}@example.org`);
    await s.subscribe(...emails);
    const links = [...emails, emails[0]!, 'stranger@example.org'].map((email) => s.url + s.linkFor(email));
    const answers = await Promise.all(links.map((link) => oneClick(link)));
    expect(answers.map((answer) => answer.status)).toEqual(links.map(() => 200));
    expect(await s.store.count()).toMatchObject({ total: 61, subscribed: 0, unsubscribed: 61 });
    expect(s.logs.filter((entry) => entry.msg === 'unsubscribe' && entry.changed === true)).toHaveLength(61);
  });
});
