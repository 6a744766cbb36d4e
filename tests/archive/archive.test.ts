/**
 * `digest archive`: the static site written from the build folder. Every link in the index must
 * resolve to a file, the feed must parse with a real feed parser (rss-parser), rebuilding must be
 * incremental, and nothing from front matter may reach the HTML unescaped.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import Parser from 'rss-parser';
import { describe, expect, test } from 'vitest';
import { writeArchive } from '../../src/archive/index.js';
import { loadConfig } from '../../src/config.js';
import { tempDir } from '../audience/databases.js';
import { CONFIG, writeEdition, type FakeEdition } from '../serve/helpers.js';

const editions: FakeEdition[] = [
  { slug: '2024-03-08-weekly', title: 'The bridge decision', date: '2024-03-08', send_at: '2024-03-08T07:00:00-05:00', author: 'Maren Ostrowski', preheader: 'Two reports, one bridge.' },
  { slug: '2024-03-15-weekly', title: 'Carrow votes <to> save "the" bridge & more', date: '2024-03-15', preheader: 'Repair, not <b>replace</b>.' },
  { slug: '2024-02-01-special', title: 'A special issue', date: '2024-02-01' },
];

async function project(list: FakeEdition[] = editions, config = CONFIG) {
  const root = await tempDir();
  writeFileSync(join(root, 'digest.config.yaml'), config);
  for (const edition of list) writeEdition(join(root, 'build'), edition);
  return { root, config: await loadConfig({ cwd: root }), out: join(root, 'site') };
}

/** Every href and src in a page, as written. */
function links(html: string): string[] {
  return [...html.matchAll(/\s(?:href|src)="([^"]*)"/g)].map((match) => match[1]!.replace(/&amp;/g, '&'));
}

/** The file a static host would serve for a relative link in a page at `from`. */
function resolveOnDisk(site: string, from: string, link: string): string {
  const path = posix.normalize(posix.join(posix.dirname(from), link.split(/[?#]/)[0]!));
  return join(site, path.endsWith('/') ? `${path}index.html` : path);
}

describe('digest archive', () => {
  test('the index lists the issues newest first, each with title, date and summary, and every link resolves to a file', async () => {
    const { config, out } = await project();
    const result = await writeArchive(config, { out });
    expect(result.issues).toEqual(['2024-03-15-weekly', '2024-03-08-weekly', '2024-02-01-special']);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const titles = [...html.matchAll(/<h2><a href="issues\/([^/]+)\/">/g)].map((match) => match[1]);
    expect(titles).toEqual(['2024-03-15-weekly', '2024-03-08-weekly', '2024-02-01-special']);
    expect(html).toContain('<time datetime="2024-03-08">March 8, 2024</time>');
    expect(html).toContain('Two reports, one bridge.');
    const relative = links(html).filter((link) => !/^[a-z]+:/i.test(link));
    expect(relative.length).toBeGreaterThanOrEqual(4);
    for (const link of relative) {
      const file = resolveOnDisk(out, 'index.html', link);
      expect(existsSync(file) && statSync(file).isFile(), `${link} → ${file}`).toBe(true);
    }
    expect(readFileSync(join(out, 'issues', '2024-03-08-weekly', 'index.html'), 'utf8')).toContain('web version of 2024-03-08-weekly');
  });

  test('front matter is escaped in the index and the feed', async () => {
    const { config, out } = await project();
    await writeArchive(config, { out });
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('Carrow votes &lt;to&gt; save &quot;the&quot; bridge &amp; more');
    expect(html).toContain('Repair, not &lt;b&gt;replace&lt;/b&gt;.');
    expect(html).not.toMatch(/<to>|<b>replace/);
  });

  test('the Atom feed parses with rss-parser: newest first, absolute links into the archive under baseUrl', async () => {
    const { config, out } = await project();
    await writeArchive(config, { out });
    const feed = await new Parser().parseString(readFileSync(join(out, 'feed.xml'), 'utf8'));
    expect(feed.title).toBe('The Test Gazette');
    expect(feed.items.map((item) => item.title)).toEqual(['Carrow votes <to> save "the" bridge & more', 'The bridge decision', 'A special issue']);
    expect(feed.items.map((item) => item.link)).toEqual([
      'https://gazette.example/news/issues/2024-03-15-weekly/',
      'https://gazette.example/news/issues/2024-03-08-weekly/',
      'https://gazette.example/news/issues/2024-02-01-special/',
    ]);
    expect(feed.items[1]!.isoDate).toBe('2024-03-08T12:00:00.000Z');
    expect(feed.items[1]!.summary ?? feed.items[1]!.contentSnippet).toContain('Two reports, one bridge.');
    // The "view in browser" link of a sent message is `${baseUrl}/issues/<slug>/`: the same page.
    for (const item of feed.items) {
      const path = new URL(item.link!).pathname.replace(/^\/news\//, '');
      expect(existsSync(join(out, path, 'index.html'))).toBe(true);
    }
  });

  test('rebuilding writes only what changed, removes the pages of issues no longer built, and leaves no temporary files', async () => {
    const { root, config, out } = await project();
    const first = await writeArchive(config, { out });
    expect(first.written.sort()).toEqual(['feed.xml', 'index.html', 'issues/2024-02-01-special/index.html', 'issues/2024-03-08-weekly/index.html', 'issues/2024-03-15-weekly/index.html']);
    const indexTime = statSync(join(out, 'index.html')).mtimeMs;

    const again = await writeArchive(config, { out });
    expect(again.written).toEqual([]);
    expect(again.unchanged).toBe(5);
    expect(statSync(join(out, 'index.html')).mtimeMs).toBe(indexTime);

    writeFileSync(join(root, 'build', '2024-03-08-weekly', 'web.html'), '<html>corrected</html>');
    rmSync(join(root, 'build', '2024-02-01-special'), { recursive: true });
    writeFileSync(join(out, 'robots.txt'), 'User-agent: *\n');
    const third = await writeArchive(config, { out });
    expect(third.written.sort()).toEqual(['feed.xml', 'index.html', 'issues/2024-03-08-weekly/index.html']);
    expect(third.removed).toEqual(['issues/2024-02-01-special/index.html']);
    expect(existsSync(join(out, 'issues', '2024-02-01-special'))).toBe(false);
    expect(existsSync(join(out, 'robots.txt'))).toBe(true);
    const everything = readdirSync(out, { recursive: true }).map(String);
    expect(everything.filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  test('an issue scheduled for later is held back until its send_at', async () => {
    const future = new Date(Date.now() + 86_400_000).toISOString();
    const { config, out } = await project([...editions, { slug: 'next-week', title: 'Next week', date: future.slice(0, 10), send_at: future }]);
    const result = await writeArchive(config, { out });
    expect(result.held).toEqual([{ slug: 'next-week', publishedAt: new Date(future).toISOString() }]);
    expect(existsSync(join(out, 'issues', 'next-week'))).toBe(false);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).not.toContain('Next week');
    const later = await writeArchive(config, { out, now: new Date(Date.now() + 2 * 86_400_000) });
    expect(later.issues[0]).toBe('next-week');
  });

  test('images the web version loads from baseUrl are copied beside the pages; a missing one is a warning', async () => {
    const web = '<html><body><img src="https://gazette.example/news/images/bridge.jpg"><img src="https://gazette.example/news/images/missing.png"><img src="https://elsewhere.example/x.png"></body></html>';
    const { root, config, out } = await project([{ slug: 'with-images', title: 'Pictures', date: '2024-01-05', web }]);
    mkdirSync(join(root, 'issues', 'images'), { recursive: true });
    writeFileSync(join(root, 'issues', 'images', 'bridge.jpg'), 'jpeg bytes');
    const result = await writeArchive(config, { out });
    expect(readFileSync(join(out, 'images', 'bridge.jpg'), 'utf8')).toBe('jpeg bytes');
    expect(result.warnings).toEqual([expect.stringContaining('images/missing.png')]);
  });

  test('an empty build folder gives an index that says so and an empty, valid feed', async () => {
    const { config, out } = await project([]);
    const result = await writeArchive(config, { out });
    expect(result.issues).toEqual([]);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('No issues yet.');
    expect((await new Parser().parseString(readFileSync(join(out, 'feed.xml'), 'utf8'))).items).toEqual([]);
  });

  test('the index reads in the newsletter’s language and direction, with its subscribe word', async () => {
    const arabic = await project(editions, 'name: نشرة الوادي\nlanguage: ar\nbaseUrl: https://gazette.example/news\nsubscribeUrl: https://gazette.example/join\n');
    await writeArchive(arabic.config, { out: arabic.out });
    const html = readFileSync(join(arabic.out, 'index.html'), 'utf8');
    expect(html).toContain('<html lang="ar" dir="rtl">');
    expect(html).toContain('>اشترك</a>');
    const english = await project();
    await writeArchive(english.config, { out: english.out });
    expect(readFileSync(join(english.out, 'index.html'), 'utf8')).toContain('<html lang="en" dir="ltr">');
  });
});
