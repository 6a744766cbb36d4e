import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIssue } from '../../src/issue/load.js';
import type { Diagnostic } from '../../src/issue/diagnostic.js';
import type { CheckResult, PreflightContext } from '../../src/preflight/check.js';
import { runPreflight } from '../../src/preflight/index.js';
import { CACHE_FILE } from '../../src/preflight/link-cache.js';
import { linksCheck } from '../../src/preflight/links.js';
import { failureOf } from '../../src/preflight/probe.js';
import { referencesIn } from '../../src/preflight/urls.js';
import { renderIssue } from '../../src/render/index.js';
import { configFor, failOnWarnings, tempProject } from '../helpers.js';
import { jpeg, png } from './images.js';

failOnWarnings();

/** A local web server that records every request and how many were in flight at once. */
interface Recorder {
  server: Server;
  port: number;
  requests: string[];
  inFlight: number;
  maxInFlight: number;
}

async function listen(server: Server, handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<Recorder> {
  const recorder: Recorder = { server, port: 0, requests: [], inFlight: 0, maxInFlight: 0 };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    recorder.requests.push(`${request.method} ${request.url}`);
    recorder.inFlight++;
    recorder.maxInFlight = Math.max(recorder.maxInFlight, recorder.inFlight);
    const done = () => {
      recorder.inFlight--;
    };
    response.once('close', done);
    handle(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  recorder.port = (server.address() as AddressInfo).port;
  return recorder;
}

async function close(recorder: Recorder): Promise<void> {
  recorder.server.closeAllConnections();
  await new Promise((resolve) => recorder.server.close(resolve));
}

// Images made here: real files any decoder reads (see images.ts), with known dimensions and weights.
const photo = jpeg(1600, 900, { padding: 100_000 }); // too wide; its frame header ~100 KB in
const chart = png(300, 200);
const heavy = png(600, 400, { noise: true }); // ~720 KB: over the 500 KB budget with the rest
const map = png(400, 300);

let main: Recorder;
let other: Recorder;
let secure: Recorder;
let closedPort: number;
let flakyFixed = false;
const certificates = mkdtempSync(join(tmpdir(), 'digest-links-tls-'));

function send(response: ServerResponse, status: number, body: Buffer | string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'text/html', 'content-length': String(Buffer.byteLength(body)), ...headers });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

beforeAll(async () => {
  main = await listen(createHttpServer(), (request, response) => {
    const path = request.url ?? '/';
    const redirect = (to: string, status = 301) => send(response, status, 'moved', { location: to });
    switch (path) {
      case '/ok':
      case '/news':
      case '/chain/3':
      case '/docs/':
        return send(response, 200, '<p>fine</p>');
      case '/chain/1':
        return redirect('/chain/2');
      case '/chain/2':
        return redirect('/chain/3');
      case '/docs':
        return redirect('/docs/');
      case '/away':
        return redirect(`http://127.0.0.1:${other.port}/landing`, 302);
      case '/loop/a':
        return redirect('/loop/b', 302);
      case '/loop/b':
        return redirect('/loop/a', 302);
      case '/missing':
        return send(response, 404, 'not here');
      case '/error':
        return send(response, 500, 'oops');
      case '/hang':
        return; // never answers
      case '/no-head':
        return request.method === 'HEAD' ? send(response, 405, '', { allow: 'GET' }) : send(response, 200, 'fine');
      case '/head-404':
        return send(response, request.method === 'HEAD' ? 404 : 200, 'fine');
      case '/flaky':
        return send(response, flakyFixed ? 200 : 404, 'fixed now');
      case '/images/photo.jpg':
        return send(response, 200, photo, { 'content-type': 'image/jpeg' });
      case '/images/chart.png':
      case '/images/chart.png?raw':
        return send(response, 200, chart, { 'content-type': 'image/png' });
      case '/images/heavy.png':
        // No Content-Length: the size is what is read.
        response.writeHead(200, { 'content-type': 'image/png' });
        return response.end(heavy);
      case '/images/moved.png':
        return redirect(`http://127.0.0.1:${other.port}/cdn/chart.png`, 302);
      case '/logo.png':
        return send(response, 200, png(200, 60), { 'content-type': 'image/png' });
      default:
        if (path.startsWith('/many/')) return redirect(`/many/${Number(path.slice(6)) + 1}`, 302);
        if (path.startsWith('/slow/')) {
          setTimeout(() => send(response, 200, 'slow'), 60);
          return;
        }
        return send(response, 404, 'not here');
    }
  });
  other = await listen(createHttpServer(), (request, response) =>
    request.url === '/cdn/chart.png' ? send(response, 200, chart, { 'content-type': 'image/png' }) : send(response, 200, 'landed'),
  );

  const key = join(certificates, 'key.pem');
  const cert = join(certificates, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  secure = await listen(createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }) as unknown as Server, (_request, response) => send(response, 200, 'fine'));

  const spare = createHttpServer();
  await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
  closedPort = (spare.address() as AddressInfo).port;
  await new Promise((resolve) => spare.close(resolve));
});

afterAll(async () => {
  await Promise.all([main, other, secure].filter(Boolean).map(close));
  rmSync(certificates, { recursive: true, force: true });
});

function configText(preflight: string, extra = ''): string {
  return `name: The Test Gazette
from: "Test Gazette <news@gazette.example>"
address: "1 Press Lane, Testville"
baseUrl: http://127.0.0.1:${main.port}/news
${extra}preflight:
${preflight}`;
}

async function contextFor(root: string, file: string, signal?: AbortSignal, html?: (html: string) => string): Promise<PreflightContext> {
  const config = await configFor(root);
  const path = join(root, file);
  const issue = await loadIssue(path);
  const edition = await renderIssue(issue, config);
  if (html) {
    edition.html = html(edition.html);
    edition.untracked = html(edition.untracked);
  }
  return { issue, source: readFileSync(path, 'utf8'), edition, config, offline: false, cacheDir: join(root, '.cache'), signal };
}

/**
 * The default template gives every image height="auto"; a template of one's own may print both
 * attributes, as this stands in for.
 */
const squash = (html: string) => html.replace(/(<img src="[^"]*chart\.png\?raw" width="300") height="auto"/, '$1 height="300"');

function only(result: CheckResult, code: string): Diagnostic[] {
  return result.diagnostics.filter((diagnostic) => diagnostic.code === code);
}

function paths(recorder: Recorder): string[] {
  return recorder.requests.map((request) => request.split(' ')[1]!);
}

describe('the links and images check', () => {
  let root: string;
  let first: CheckResult;
  const base = () => `http://127.0.0.1:${main.port}`;

  // The issue, line by line: every finding is checked against the line its URL is written on.
  const issueLines = () => [
    '---', //                                                                       1
    'title: Links of every kind', //                                                 2
    'date: 2024-05-01', //                                                           3
    'preheader: Every answer a server can give.', //                                 4
    'image:', //                                                                     5
    `  src: ${base()}/images/photo.jpg`, //                                          6
    '  alt: A wide photo', //                                                        7
    '---', //                                                                        8
    `A [good link](${base()}/ok) to start.`, //                                      9
    '', //                                                                           10
    `A [chain](${base()}/chain/1) of redirects.`, //                                 11
    `A [redirect elsewhere](${base()}/away).`, //                                    12
    `A [loop](${base()}/loop/a).`, //                                                13
    `A [missing page](${base()}/missing).`, //                                       14
    `A [broken server](${base()}/error).`, //                                        15
    `A [slow one](${base()}/hang).`, //                                              16
    `A [HEAD-refusing server](${base()}/no-head) and [another](${base()}/head-404).`, // 17
    `A [self-signed site](https://127.0.0.1:${secure.port}/).`, //                   18
    `A [closed port](http://127.0.0.1:${closedPort}/).`, //                          19
    `A [fixed link](${base()}/flaky), [docs](${base()}/docs), [mail](mailto:news@gazette.example), [a phone](tel:+15550100), [a note](#top).`, // 20
    '', //                                                                           21
    '![A chart](images/map.png)', //                                                 22
    '', //                                                                           23
    `![A heavy picture](${base()}/images/heavy.png)`, //                             24
    '', //                                                                           25
    `<img src="${base()}/images/chart.png?raw" width="300" height="300" alt="A squashed chart">`, // 26
    '', //                                                                           27
    `The [good link](${base()}/ok) again, and the [chart](${base()}/images/chart.png?raw).`, // 28
    '',
  ];

  beforeAll(async () => {
    root = tempProject(
      { 'issues/links.md': issueLines().join('\n'), 'issues/images/map.png': map },
      // A timeout generous enough that a loaded machine never times out a good answer; /hang takes all of it.
      configText('  timeout: 2\n  concurrency: 4\n  imageBudgetKB: 500\n', `brand:\n  logo: http://127.0.0.1:${main.port}/logo.png\n`),
    );
    main.requests.length = 0;
    other.requests.length = 0;
    secure.requests.length = 0;
    first = await linksCheck.run(await contextFor(root, 'issues/links.md', undefined, squash));
  });

  it('reports nothing for a good link, a same-site redirect chain, or a server that refuses HEAD but answers GET', () => {
    const clean = ['/ok', '/chain/1', '/no-head', '/head-404', '/docs'];
    for (const path of clean) expect(first.diagnostics.filter((diagnostic) => diagnostic.message.includes(`${base()}${path} `))).toEqual([]);
    // Each hop was seen; HEAD first, GET only where HEAD was refused.
    expect(main.requests.filter((request) => request.includes('/chain/'))).toEqual(['HEAD /chain/1', 'HEAD /chain/2', 'HEAD /chain/3']);
    expect(main.requests.filter((request) => request.endsWith('/no-head'))).toEqual(['HEAD /no-head', 'GET /no-head']);
    expect(main.requests.filter((request) => request.endsWith('/head-404'))).toEqual(['HEAD /head-404', 'GET /head-404']);
    expect(first.notes).toContain(`${base()}/chain/1 redirects to ${base()}/chain/3`);
    expect(first.notes).toContain(`${base()}/docs redirects to ${base()}/docs/`);
  });

  it('finds each fault with its code, severity, status and the line it is written on', () => {
    const found = (code: string) => only(first, code).map((diagnostic) => [diagnostic.severity, diagnostic.line, diagnostic.message]);
    expect(found('link-broken')).toEqual([
      ['error', 14, expect.stringContaining(`${base()}/missing answers 404 Not Found`)],
      ['warning', 15, expect.stringContaining(`${base()}/error answers 500 Internal Server Error`)],
      ['error', 20, expect.stringContaining(`${base()}/flaky answers 404 Not Found`)],
    ]);
    expect(found('link-redirect-host')).toEqual([['warning', 12, expect.stringContaining(`redirects to another host, 127.0.0.1:${other.port}`)]]);
    expect(found('link-redirect-loop')).toEqual([['error', 13, expect.stringContaining(`${base()}/loop/a → ${base()}/loop/b → ${base()}/loop/a`)]]);
    expect(found('link-timeout')).toEqual([['warning', 16, expect.stringContaining(`${base()}/hang timed out: no answer within 2 s`)]]);
    expect(found('link-tls')).toEqual([['error', 18, expect.stringMatching(/certificate problem: TLS: self[- ]signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)/)]]);
    expect(found('link-unreachable')).toEqual([['warning', 19, expect.stringContaining(`127.0.0.1:${closedPort} refused the connection`)]]);
    // The web version ("view in browser") is not published yet: said, not an error.
    expect(found('link-unpublished')).toEqual([['warning', undefined, expect.stringContaining(`${base()}/news/issues/links/ is not published yet (404 Not Found)`)]]);
    for (const diagnostic of first.diagnostics) expect(diagnostic.file).toBe(join(root, 'issues/links.md'));
  });

  it('never fetches merge fields, mailto:, tel: or anchors, and fetches a URL used twice once', () => {
    expect(main.requests.some((request) => request.includes('unsubscribe') || request.includes('mailto'))).toBe(false);
    expect(main.requests.filter((request) => request === 'HEAD /ok')).toHaveLength(1);
    // Linked and shown: fetched once, as an image.
    expect(main.requests.filter((request) => request.includes('/images/chart.png'))).toEqual(['GET /images/chart.png?raw']);
  });

  it("lists each image's bytes and pixels, and warns on a wide image, a squashed one and the budget", () => {
    expect(first.notes).toEqual(
      expect.arrayContaining([
        `http://127.0.0.1:${main.port}/logo.png ${(png(200, 60).length / 1000).toFixed(1)} KB 200×60`,
        `${base()}/images/photo.jpg ${Math.round(photo.length / 1000)} KB 1600×900`,
        `images/map.png ${(map.length / 1000).toFixed(1)} KB 400×300 (the file beside the issue: not published yet)`,
        `${base()}/images/heavy.png ${Math.round(heavy.length / 1000)} KB 600×400`,
        `${base()}/images/chart.png?raw ${(chart.length / 1000).toFixed(1)} KB 300×200`,
      ]),
    );
    const total = [png(200, 60), photo, map, heavy, chart].reduce((sum, image) => sum + image.length, 0);
    expect(first.notes).toContain(`images: 5, ${Math.round(total / 1000)} KB in all (budget 500 KB)`);
    expect(only(first, 'images-over-budget')).toEqual([
      expect.objectContaining({ severity: 'warning', message: expect.stringContaining(`add up to ${Math.round(total / 1000)} KB, over the 500 KB budget`) }),
    ]);
    expect(only(first, 'images-over-budget')[0]!.message).toContain(`the heaviest: ${base()}/images/heavy.png ${Math.round(heavy.length / 1000)} KB`);
    expect(only(first, 'image-too-wide')).toEqual([expect.objectContaining({ severity: 'warning', line: 6, message: expect.stringContaining('is 1600 px wide') })]);
    expect(only(first, 'image-aspect')).toEqual([expect.objectContaining({ severity: 'warning', line: 26, message: expect.stringContaining('shown at 300×300 but is 300×200') })]);
    // The image under baseUrl that is not published yet was read from the file beside the issue.
    expect(only(first, 'image-unpublished')).toEqual([expect.objectContaining({ severity: 'warning', line: 22, message: expect.stringContaining(`images/map.png is not published yet at ${base()}/news/images/map.png (404 Not Found)`) })]);
    // A large image is read only as far as its dimensions when its length is known.
    expect(only(first, 'image-broken')).toEqual([]);
  });

  it("measures an image from its bytes, and never reads a link's body", async () => {
    const { probe } = await import('../../src/preflight/probe.js');
    const { Agent } = await import('undici');
    const agent = new Agent();
    try {
      const result = await probe(`${base()}/images/photo.jpg`, 'image', { dispatcher: agent, timeoutMs: 5000, maxRedirects: 10 });
      expect(result.image).toEqual({ bytes: photo.length, width: 1600, height: 900, format: 'jpg', contentType: 'image/jpeg' });
      const link = await probe(`${base()}/images/photo.jpg`, 'link', { dispatcher: agent, timeoutMs: 5000, maxRedirects: 10 });
      expect(link).toMatchObject({ status: 200, hops: [{ status: 200 }] });
      expect(link.image).toBeUndefined();
    } finally {
      await agent.close();
    }
  });

  it('asks nothing again of a good answer on a rerun, and asks every failure again', async () => {
    main.requests.length = 0;
    other.requests.length = 0;
    secure.requests.length = 0;
    flakyFixed = true;
    const second = await linksCheck.run(await contextFor(root, 'issues/links.md', undefined, squash));
    const asked = [...new Set(paths(main))].sort();
    expect(asked).toEqual(['/error', '/flaky', '/hang', '/loop/a', '/loop/b', '/missing', '/news/images/map.png', '/news/issues/links/'].sort());
    expect(other.requests).toEqual([]);
    expect(secure.requests).toEqual([]); // the TLS handshake fails before any request
    // The link fixed on the server since is found good at once.
    expect(only(second, 'link-broken').map((diagnostic) => diagnostic.line)).toEqual([14, 15]);
    // The same findings otherwise, from the cache: warnings on cached images included.
    const codes = (result: CheckResult) => result.diagnostics.map((diagnostic) => `${diagnostic.code} ${diagnostic.line}`).sort();
    expect(codes(second)).toEqual(codes(first).filter((code) => code !== 'link-broken 20'));
    expect(second.notes).toContain('20 URLs checked: 9 fetched, 11 from the cache (kept 24 h)');
  });
});

describe('with click tracking', () => {
  it('fetches where the links really go, never a tracked link (that would count a click)', async () => {
    const body = ['---', 'title: Tracked', 'date: 2024-05-04', 'preheader: Fine.', '---', `[One](http://127.0.0.1:${main.port}/ok).`, ''];
    const root = tempProject({ 'issues/tracked.md': body.join('\n') }, configText('  cacheHours: 0\n', 'tracking:\n  clicks: true\n'));
    const saved = process.env.DIGEST_SECRET;
    process.env.DIGEST_SECRET = 'test secret: at least thirty-two characters long';
    try {
      const context = await contextFor(root, 'issues/tracked.md');
      expect(context.edition.html).toContain(`http://127.0.0.1:${main.port}/news/c/c1.`);
      main.requests.length = 0;
      await linksCheck.run(context);
      expect(paths(main)).toContain('/ok');
      expect(paths(main).filter((path) => path.startsWith('/news/c/'))).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.DIGEST_SECRET;
      else process.env.DIGEST_SECRET = saved;
    }
  });
});

describe('the cache', () => {
  it('keeps good answers in one JSON file, and asks only the failing one (the unpublished web version) again', async () => {
    const body = ['---', 'title: All good', 'date: 2024-05-02', 'preheader: Fine.', '---', `[One](http://127.0.0.1:${main.port}/ok), [two](http://127.0.0.1:${main.port}/chain/1).`, '', `![Chart](http://127.0.0.1:${main.port}/images/chart.png)`, ''];
    const root = tempProject({ 'issues/good.md': body.join('\n') }, configText('  cacheHours: 1\n'));
    main.requests.length = 0;
    const first = await linksCheck.run(await contextFor(root, 'issues/good.md'));
    expect(main.requests.length).toBeGreaterThan(0);
    main.requests.length = 0;
    const context = await contextFor(root, 'issues/good.md');
    // The web version is not published: with it left out, everything else is good.
    const again = await linksCheck.run(context);
    expect(paths(main)).toEqual(['/news/issues/good/', '/news/issues/good/']);
    expect(again.diagnostics).toEqual(first.diagnostics);
    // Written whole through a temporary file and a rename: nothing else is left in the folder.
    expect(readdirSync(join(root, '.cache'))).toEqual([CACHE_FILE]);
    const cache = JSON.parse(readFileSync(join(root, '.cache', CACHE_FILE), 'utf8'));
    expect(Object.keys(cache.entries).sort()).toEqual(
      [`http://127.0.0.1:${main.port}/ok`, `http://127.0.0.1:${main.port}/chain/1`, `http://127.0.0.1:${main.port}/images/chart.png`, `http://127.0.0.1:${main.port}/news`].sort(),
    );
  });

  it('makes no request at all on a rerun when every answer is cached; cacheHours: 0 asks every time', async () => {
    const body = ['---', 'title: All good', 'date: 2024-05-03', 'preheader: Fine.', '---', `[One](http://127.0.0.1:${main.port}/ok).`, ''];
    const cached = tempProject({ 'issues/good.md': body.join('\n') }, configText(`  skipHosts: ["127.0.0.1:${other.port}"]\n`).replace(/baseUrl: .*\n/, `baseUrl: http://127.0.0.1:${other.port}/news\n`));
    await linksCheck.run(await contextFor(cached, 'issues/good.md'));
    main.requests.length = 0;
    other.requests.length = 0;
    const again = await linksCheck.run(await contextFor(cached, 'issues/good.md'));
    expect(main.requests).toEqual([]);
    expect(other.requests).toEqual([]);
    expect(again.diagnostics).toEqual([]);
    expect(again.notes).toContain('1 URL checked: 0 fetched, 1 from the cache (kept 24 h)');
    expect(again.notes).toContain(`not fetched, their hosts being in preflight.skipHosts: http://127.0.0.1:${other.port}/news, http://127.0.0.1:${other.port}/news/issues/good/`);

    const uncached = tempProject({ 'issues/good.md': body.join('\n') }, configText(`  cacheHours: 0\n  skipHosts: ["127.0.0.1:${other.port}"]\n`).replace(/baseUrl: .*\n/, `baseUrl: http://127.0.0.1:${other.port}/news\n`));
    await linksCheck.run(await contextFor(uncached, 'issues/good.md'));
    main.requests.length = 0;
    const uncachedAgain = await linksCheck.run(await contextFor(uncached, 'issues/good.md'));
    expect(main.requests).toEqual(['HEAD /ok']);
    expect(uncachedAgain.notes).toContain('1 URL checked: 1 fetched, 0 from the cache (off: preflight.cacheHours is 0)');
  });
});

describe('bounds', () => {
  it('never has more requests in flight than preflight.concurrency', async () => {
    const links = Array.from({ length: 30 }, (_, i) => `- [slow ${i}](http://127.0.0.1:${main.port}/slow/${i})`);
    const root = tempProject(
      { 'issues/many.md': ['---', 'title: Many links', 'date: 2024-05-04', 'preheader: Thirty.', '---', ...links, ''].join('\n') },
      configText(`  concurrency: 4\n  skipHosts: ["127.0.0.1:${other.port}"]\n`).replace(/baseUrl: .*\n/, `baseUrl: http://127.0.0.1:${other.port}/news\n`),
    );
    main.requests.length = 0;
    main.maxInFlight = 0;
    const result = await linksCheck.run(await contextFor(root, 'issues/many.md'));
    expect(result.diagnostics).toEqual([]);
    expect(main.requests.filter((request) => request.startsWith('HEAD /slow/'))).toHaveLength(30);
    // Bounded, and used: four at once, never five.
    expect(main.maxInFlight).toBe(4);
  });

  it('follows 10 redirects and no more', async () => {
    const root = tempProject(
      { 'issues/many.md': ['---', 'title: Many', 'date: 2024-05-09', 'preheader: Many.', '---', `[Ten](http://127.0.0.1:${main.port}/many/0).`, ''].join('\n') },
      configText('  timeout: 5\n').replace(/baseUrl: .*\n/, ''),
    );
    main.requests.length = 0;
    const result = await linksCheck.run(await contextFor(root, 'issues/many.md'));
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ code: 'link-redirect-loop', severity: 'error', line: 6, message: expect.stringContaining('more than 10 redirects') }),
    ]);
    // The first request and ten redirects followed: /many/0 … /many/10.
    expect(main.requests).toEqual(Array.from({ length: 11 }, (_, i) => `HEAD /many/${i}`));
  });

  it('gives up on a request at preflight.timeout', async () => {
    const root = tempProject(
      { 'issues/slow.md': ['---', 'title: Slow', 'date: 2024-05-08', 'preheader: Slow.', '---', `[Slow](http://127.0.0.1:${main.port}/hang).`, ''].join('\n') },
      configText('  timeout: 0.3\n').replace(/baseUrl: .*\n/, ''),
    );
    const context = await contextFor(root, 'issues/slow.md');
    const started = performance.now();
    const result = await linksCheck.run(context);
    const took = performance.now() - started;
    expect(result.diagnostics).toEqual([expect.objectContaining({ code: 'link-timeout', severity: 'warning', line: 6, message: `link http://127.0.0.1:${main.port}/hang timed out: no answer within 0.3 s` })]);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(3000);
  });

  it('stops when the run is aborted, keeping what it learnt', async () => {
    const root = tempProject(
      { 'issues/stop.md': ['---', 'title: Stop', 'date: 2024-05-05', 'preheader: Stop.', '---', `[Good](http://127.0.0.1:${main.port}/ok) and [slow](http://127.0.0.1:${main.port}/hang).`, ''].join('\n') },
      configText(`  timeout: 30\n  skipHosts: ["127.0.0.1:${other.port}"]\n`).replace(/baseUrl: .*\n/, `baseUrl: http://127.0.0.1:${other.port}/news\n`),
    );
    const controller = new AbortController();
    const context = await contextFor(root, 'issues/stop.md', controller.signal);
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('stopped by the test')), 200);
    await expect(linksCheck.run(context)).rejects.toThrow('stopped by the test');
    expect(Date.now() - started).toBeLessThan(5000);
    const cache = JSON.parse(readFileSync(join(root, '.cache', CACHE_FILE), 'utf8'));
    expect(Object.keys(cache.entries)).toEqual([`http://127.0.0.1:${main.port}/ok`]);
  });

  it('is skipped with --offline, through runPreflight', async () => {
    const root = tempProject({ 'issues/off.md': ['---', 'title: Off', 'date: 2024-05-06', 'preheader: Off.', '---', `[Good](http://127.0.0.1:${main.port}/ok).`, ''].join('\n') }, configText('  timeout: 1\n'));
    main.requests.length = 0;
    const context = { ...(await contextFor(root, 'issues/off.md')), offline: true };
    expect(await runPreflight(context, { only: ['links'] })).toEqual([expect.objectContaining({ check: 'links', skipped: 'offline', diagnostics: [] })]);
    expect(main.requests).toEqual([]);
  });
});

describe('other hosts and a cache that cannot be written', () => {
  it("notes an image redirected to another host (a CDN) where a link is warned, and says when the cache is not written", async () => {
    const root = tempProject(
      {
        'issues/cdn.md': ['---', 'title: CDN', 'date: 2024-05-07', 'preheader: CDN.', '---', `![Chart](http://127.0.0.1:${main.port}/images/moved.png)`, '', `[Away](http://127.0.0.1:${main.port}/away)`, ''].join('\n'),
        'not-a-folder': 'a file where the cache folder would be',
      },
      configText('  concurrency: 2\n').replace(/baseUrl: .*\n/, ''),
    );
    const context = { ...(await contextFor(root, 'issues/cdn.md')), cacheDir: join(root, 'not-a-folder', 'cache') };
    const result = await linksCheck.run(context);
    expect(result.diagnostics.map((diagnostic) => [diagnostic.code, diagnostic.line])).toEqual([['link-redirect-host', 8]]);
    expect(result.notes).toContain(`http://127.0.0.1:${main.port}/images/moved.png redirects to http://127.0.0.1:${other.port}/cdn/chart.png`);
    expect(result.notes).toContain(`http://127.0.0.1:${main.port}/images/moved.png ${(chart.length / 1000).toFixed(1)} KB 300×200`);
    expect(result.notes!.some((note) => note.startsWith('the cache could not be written ('))).toBe(true);
  });
});

describe('reading the built HTML', () => {
  it('finds links and images with a real parser: entities, quotes, attribute order, comments', () => {
    const html = `<a title='x' href='https://a.example/?a=1&amp;b=2'>A</a><!--[if mso]><img src="https://mso.example/x.png"><![endif]-->
      <IMG ALT="y" SRC="https://b.example/y.png" WIDTH="10" height=20><a name="top">no href</a><a href="{{unsubscribe_url}}">leave</a>`;
    expect(referencesIn(html)).toEqual([
      { kind: 'link', url: 'https://a.example/?a=1&b=2' },
      { kind: 'image', url: 'https://b.example/y.png', width: '10', height: '20' },
      { kind: 'link', url: '{{unsubscribe_url}}' },
    ]);
  });

  it('names what a failed request means', () => {
    const at = 'https://nowhere.example/';
    expect(failureOf(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' }), at)).toMatchObject({ type: 'unreachable', message: 'no such host: nowhere.example is not in DNS' });
    expect(failureOf(Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), at)).toMatchObject({ type: 'tls' });
    expect(failureOf(Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), at)).toMatchObject({ type: 'tls' });
    expect(failureOf(Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' }), at)).toMatchObject({ type: 'timeout' });
    expect(failureOf(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }), at)).toMatchObject({ type: 'unreachable', code: 'ECONNRESET' });
  });

  it('refuses unknown preflight settings with the line', async () => {
    const root = tempProject({}, configText('  concurency: 4\n'));
    await expect(configFor(root)).rejects.toThrow(/concurency/);
  });
});
