/** The archive as `digest serve` publishes it from the build folder, under baseUrl's path. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Parser from 'rss-parser';
import { describe, expect, test } from 'vitest';
import { tempDir } from '../audience/databases.js';
import { serve, writeEdition } from './helpers.js';

const editions = [
  { slug: 'older', title: 'The older issue', date: '2024-03-01' },
  { slug: 'newer', title: 'The newer issue', date: '2024-03-08' },
];

describe('the archive served by digest serve', () => {
  test('/news/ is the index, /news/issues/SLUG/ the web version, /news/feed.xml the feed; / leads to /news/', async () => {
    const s = await serve(`sqlite:${join(await tempDir(), 'digest.db')}`, { editions });
    const root = await fetch(`${s.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(301);
    expect(root.headers.get('location')).toBe('/news/');

    const index = await fetch(`${s.url}/news/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await index.text();
    expect(html.indexOf('The newer issue')).toBeLessThan(html.indexOf('The older issue'));

    const page = await fetch(`${s.url}/news/issues/newer/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('web version of newer');
    const bare = await fetch(`${s.url}/news/issues/newer`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([301, '/news/issues/newer/']);

    const feed = await fetch(`${s.url}/news/feed.xml`);
    expect(feed.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    expect((await new Parser().parseString(await feed.text())).items.map((item) => item.title)).toEqual(['The newer issue', 'The older issue']);
  });

  test('an issue built while the server runs appears without a restart', async () => {
    const s = await serve(`sqlite:${join(await tempDir(), 'digest.db')}`, { editions });
    expect((await fetch(`${s.url}/news/issues/latest/`)).status).toBe(404);
    writeEdition(join(s.root, 'build'), { slug: 'latest', title: 'Just built', date: '2024-03-15' });
    expect((await fetch(`${s.url}/news/issues/latest/`)).status).toBe(200);
    expect(await (await fetch(`${s.url}/news/`)).text()).toContain('Just built');
  });

  test('the archive sits at / when baseUrl has no path, with unsubscribe links still under their own path', async () => {
    const s = await serve(`sqlite:${join(await tempDir(), 'digest.db')}`, {
      editions,
      config: 'name: Root Gazette\nbaseUrl: https://gazette.example\nunsubscribeUrl: https://mail.gazette.example/u\n',
    });
    expect((await fetch(`${s.url}/`)).status).toBe(200);
    expect((await fetch(`${s.url}/issues/older/`)).status).toBe(200);
    await s.subscribe('reader@example.org');
    expect(s.linkFor('reader@example.org')).toMatch(/^\/u\/u1\./);
    const response = await fetch(s.url + s.linkFor('reader@example.org'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(response.status).toBe(200);
    expect((await s.store.get('reader@example.org'))!.status).toBe('unsubscribed');
    writeFileSync(join(s.root, 'build', 'stray.txt'), 'not published');
    expect((await fetch(`${s.url}/stray.txt`)).status).toBe(404);
    expect((await fetch(`${s.url}/older/edition.json`)).status).toBe(404);
  });
});
