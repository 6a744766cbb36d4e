/**
 * The redirect of tracked links, over HTTP against a real server on 127.0.0.1, the counts read back
 * from the database (SQLite and PostgreSQL) once the server has closed and written them: a sealed link
 * leads where it was sealed to and is counted; nothing else leads anywhere or counts; per-reader rows
 * only with tracking.perReader; links keep working with tracking off, uncounted. Then the whole way:
 * the compiled `digest send` writes messages, their links are clicked, the counts are the readers'.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { simpleParser } from 'mailparser';
import { describe, expect, test } from 'vitest';
import { sealUnsubscribe, unsubscribeKey } from '../../src/delivery/unsubscribe.js';
import { seal } from '../../src/seal.js';
import { clickKey, readerKey, sealClick, sealReader } from '../../src/tracking/token.js';
import { onEachDatabase, tempDir } from '../audience/databases.js';
import { bin, runCli, tempProject } from '../helpers.js';
import { CONFIG, SECRET, hasStackTrace, serve, type Served } from './helpers.js';

const link = clickKey(SECRET);
const readers = readerKey(SECRET);
const TRACKING = `${CONFIG}tracking:\n  clicks: true\n`;
const PER_READER = `${TRACKING}  perReader: true\n`;
const URL_A = 'https://valleyledger.example/stories/bridge?utm_source=newsletter&x=1';
const URL_B = 'https://elsewhere.example/b';

const click = (token: string, reader?: string) => `/news/c/${token}${reader === undefined ? '' : `/${reader}`}`;
const get = (s: Served, path: string, init: RequestInit = {}) => fetch(s.url + path, { redirect: 'manual', ...init });

/** Closes the server, which writes what it counted, and reads the tables back. */
async function counts(s: Served) {
  await s.server.close(1000);
  const db = s.store.dialect.db;
  const links = await db.selectFrom('link_clicks').select(['issue', 'url', 'clicks', 'first_at', 'last_at']).orderBy('url').execute();
  const perReader = await db.selectFrom('reader_clicks').select(['issue', 'url', 'email_key', 'clicks']).orderBy('url').orderBy('email_key').execute();
  return { links: links.map((row) => ({ ...row, clicks: Number(row.clicks) })), readers: perReader.map((row) => ({ ...row, clicks: Number(row.clicks) })) };
}

onEachDatabase((target) => {
  describe('the /c/ redirect', () => {
    test('a sealed link answers 302 to its URL at once, no-store and no-referrer, and is counted per link and issue', async () => {
      const s = await serve(await target.fresh(), { config: TRACKING });
      const a = sealClick({ issue: 'week-10', url: URL_A }, link);
      const before = new Date().toISOString();
      const response = await get(s, click(a));
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(URL_A);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(await response.text()).toBe('');
      // Another seal of the same link (another message's) counts on the same row.
      for (let i = 0; i < 2; i++) expect((await get(s, click(sealClick({ issue: 'week-10', url: URL_A }, link)))).status).toBe(302);
      expect((await get(s, click(sealClick({ issue: 'week-10', url: URL_B }, link)))).status).toBe(302);
      expect((await get(s, click(sealClick({ issue: 'week-11', url: URL_A }, link)))).status).toBe(302);
      const { links, readers: perReader } = await counts(s);
      expect(links.map(({ issue, url, clicks }) => ({ issue, url, clicks }))).toEqual([
        { issue: 'week-10', url: URL_B, clicks: 1 },
        { issue: 'week-10', url: URL_A, clicks: 3 },
        { issue: 'week-11', url: URL_A, clicks: 1 },
      ]);
      const row = links.find((entry) => entry.issue === 'week-10' && entry.url === URL_A)!;
      expect(row.first_at >= before && row.first_at <= row.last_at).toBe(true);
      expect(perReader).toEqual([]);
      expect(s.logs.filter((entry) => entry.msg === 'request').map((entry) => entry.path)).toEqual(Array(5).fill('/news/c/…'));
      expect(JSON.stringify(s.logs)).not.toContain(a);
    });

    test('many clicks at once are all counted', async () => {
      const s = await serve(await target.fresh(), { config: PER_READER });
      const token = sealClick({ issue: 'week-10', url: URL_A }, link);
      const reader = sealReader({ emailKey: 'ana@example.org', issue: 'week-10' }, readers);
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => get(s, click(token, i % 2 ? reader : undefined))));
      expect(answers.map((answer) => answer.status)).toEqual(Array(200).fill(302));
      const { links, readers: perReader } = await counts(s);
      expect(links.map(({ clicks }) => clicks)).toEqual([200]);
      expect(perReader).toEqual([{ issue: 'week-10', url: URL_A, email_key: 'ana@example.org', clicks: 100 }]);
    });

    test('forged, altered and cut tokens: 400 with the plain page, nothing counted, no token in the log', async () => {
      const s = await serve(await target.fresh(), { config: PER_READER });
      const good = sealClick({ issue: 'week-10', url: URL_A }, link);
      const body = good.slice(3);
      const flipped = `c1.${body.slice(0, 10)}${body[10] === 'A' ? 'B' : 'A'}${body.slice(11)}`;
      const forged = [
        flipped,
        good.slice(0, -2),
        `${good}AA`,
        `c2.${body}`,
        'c1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        'not-a-token',
        '',
        `${encodeURIComponent(good)}%00`,
      ];
      for (const token of forged) {
        const response = await get(s, `/news/c/${token}`);
        expect(response.status, token).toBe(400);
        expect(response.headers.get('location')).toBeNull();
        const page = await response.text();
        expect(page).toContain('This link is not valid');
        expect(hasStackTrace(page)).toBe(false);
      }
      // A good token with a path after its reader part.
      expect((await get(s, `/news/c/${good}/r1.x/more`)).status).toBe(400);
      const { links, readers: perReader } = await counts(s);
      expect(links).toEqual([]);
      expect(perReader).toEqual([]);
      const refused = s.logs.filter((entry) => entry.msg === 'click refused');
      expect(refused).toHaveLength(forged.length + 1);
      expect(JSON.stringify(s.logs)).not.toContain(body.slice(0, 20));
    });

    test('no open redirect: tokens of another key or purpose are refused, and a sealed javascript: or data: URL is never a target', async () => {
      const s = await serve(await target.fresh(), { config: TRACKING });
      const otherSecret = clickKey('another secret, thirty-two characters or longer');
      const attempts = [
        sealClick({ issue: 'week-10', url: 'https://evil.example/' }, otherSecret),
        // An unsubscribe token carries the same kind of claim under another key.
        sealUnsubscribe({ email: 'https://evil.example/', issue: 'week-10' }, unsubscribeKey(SECRET)),
        `c1.${sealUnsubscribe({ email: 'https://evil.example/', issue: 'week-10' }, unsubscribeKey(SECRET)).slice(3)}`,
        seal('c1', { i: 'week-10', u: 'https://evil.example/' }, unsubscribeKey(SECRET)),
        `c1.${sealReader({ emailKey: 'https://evil.example/', issue: 'week-10' }, readers).slice(3)}`,
        sealClick({ issue: 'week-10', url: 'javascript:alert(document.domain)' }, link),
        sealClick({ issue: 'week-10', url: 'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==' }, link),
        sealClick({ issue: 'week-10', url: '//evil.example/' }, link),
      ];
      for (const token of attempts) {
        const response = await get(s, `/news/c/${token}`);
        expect(response.status, token).toBe(400);
        expect(response.headers.get('location')).toBeNull();
      }
      // Nothing in the request names where to go: a query or a second path part is not a target.
      const good = sealClick({ issue: 'week-10', url: URL_B }, link);
      const response = await get(s, `/news/c/${good}?url=https://evil.example/&next=https://evil.example/`);
      expect(response.headers.get('location')).toBe(URL_B);
      expect((await get(s, `/news/c/${good}/https:%2F%2Fevil.example%2F`)).headers.get('location')).toBe(URL_B);
      const { links } = await counts(s);
      expect(links.map(({ url, clicks }) => ({ url, clicks }))).toEqual([{ url: URL_B, clicks: 2 }]);
    });

    test('per reader only with perReader: a reader token that opens, for the same issue, adds the reader’s row; any other still counts the link', async () => {
      const s = await serve(await target.fresh(), { config: PER_READER });
      const token = sealClick({ issue: 'week-10', url: URL_A }, link);
      const ana = sealReader({ emailKey: 'ana@example.org', issue: 'week-10' }, readers);
      const bo = sealReader({ emailKey: 'bo@example.org', issue: 'week-10' }, readers);
      const paths = [
        click(token, ana),
        click(token, ana),
        click(token, bo),
        // Not counted for a reader: another issue's token, a forged one, one sealed for links, an empty part.
        click(token, sealReader({ emailKey: 'cy@example.org', issue: 'week-09' }, readers)),
        click(token, `${bo.slice(0, -3)}AAA`),
        click(token, sealReader({ emailKey: 'dee@example.org', issue: 'week-10' }, readerKey('another secret, thirty-two characters or longer'))),
        click(token, `r1.${sealClick({ issue: 'week-10', url: 'eve@example.org' }, link).slice(3)}`),
        click(token, ''),
        click(token),
      ];
      for (const path of paths) expect((await get(s, path)).headers.get('location')).toBe(URL_A);
      const { links, readers: perReader } = await counts(s);
      expect(links.map(({ clicks }) => clicks)).toEqual([paths.length]);
      expect(perReader).toEqual([
        { issue: 'week-10', url: URL_A, email_key: 'ana@example.org', clicks: 2 },
        { issue: 'week-10', url: URL_A, email_key: 'bo@example.org', clicks: 1 },
      ]);
    });

    test('without perReader a reader token counts the link only', async () => {
      const s = await serve(await target.fresh(), { config: TRACKING });
      const token = sealClick({ issue: 'week-10', url: URL_A }, link);
      const ana = sealReader({ emailKey: 'ana@example.org', issue: 'week-10' }, readers);
      expect((await get(s, click(token, ana))).status).toBe(302);
      const { links, readers: perReader } = await counts(s);
      expect(links.map(({ clicks }) => clicks)).toEqual([1]);
      expect(perReader).toEqual([]);
    });

    test('with tracking off, links already sent still lead where they did, counted by no one', async () => {
      const s = await serve(await target.fresh());
      const token = sealClick({ issue: 'week-10', url: URL_A }, link);
      const response = await get(s, click(token, sealReader({ emailKey: 'ana@example.org', issue: 'week-10' }, readers)));
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(URL_A);
      expect(await counts(s)).toEqual({ links: [], readers: [] });
    });

    test('HEAD is answered like GET and counts nothing; other methods get 405', async () => {
      const s = await serve(await target.fresh(), { config: TRACKING });
      const token = sealClick({ issue: 'week-10', url: URL_A }, link);
      const head = await get(s, click(token), { method: 'HEAD' });
      expect(head.status).toBe(302);
      expect(head.headers.get('location')).toBe(URL_A);
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const response = await get(s, click(token), { method });
        expect(response.status, method).toBe(405);
        expect(response.headers.get('allow')).toBe('GET, HEAD');
      }
      expect(await counts(s)).toEqual({ links: [], readers: [] });
    });

    test('closing the server waits for the clicks being written, however slow the database', async () => {
      const s = await serve(await target.fresh(), { config: PER_READER });
      const connection = s.store.dialect as { transaction: (work: () => Promise<unknown>) => Promise<unknown> };
      const transaction = connection.transaction.bind(connection);
      connection.transaction = async (work) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return transaction(work);
      };
      const token = sealClick({ issue: 'week-10', url: URL_A }, link);
      expect((await get(s, click(token, sealReader({ emailKey: 'ana@example.org', issue: 'week-10' }, readers)))).status).toBe(302);
      expect((await get(s, click(token))).status).toBe(302);
      const { links, readers: perReader } = await counts(s);
      expect(links.map(({ clicks }) => clicks)).toEqual([2]);
      expect(perReader.map(({ email_key, clicks }) => ({ email_key, clicks }))).toEqual([{ email_key: 'ana@example.org', clicks: 1 }]);
    });

    test('a database that fails does not hold up the redirect; the clicks it refuses are said to be lost', async () => {
      const s = await serve(await target.fresh(), { config: TRACKING });
      // The counter writes through the store's connection, the object it was given when the server started.
      const connection = s.store.dialect as { transaction: (work: () => Promise<unknown>) => Promise<unknown> };
      const transaction = connection.transaction;
      connection.transaction = () => Promise.reject(new Error('the database went away (a test failure)'));
      try {
        const response = await get(s, click(sealClick({ issue: 'week-10', url: URL_A }, link)));
        expect(response.status).toBe(302);
        expect(response.headers.get('location')).toBe(URL_A);
        await s.server.close(1000);
      } finally {
        connection.transaction = transaction;
      }
      expect(s.logs.filter((entry) => entry.level === 'error').map((entry) => entry.msg)).toContain('click counts lost: the database refused them');
      expect(await counts(s)).toEqual({ links: [], readers: [] });
    });
  });
});

describe('digest serve (the compiled CLI), from sent messages to counts', () => {
  test('each reader’s message carries its own links; clicking them counts the link and the reader; the counts are written on SIGTERM', async () => {
    const root = tempProject(
      {
        'issues/week.md': '---\ntitle: A week\ndate: 2024-03-08\nslug: week-10\n---\nRead [the story](https://example.org/story) or [write](mailto:ed@example.org).\n',
        'readers.csv': 'email,name\nAna@Example.org,Ana\nbo@example.org,Bo\n',
      },
      `name: The Test Gazette\nfrom: "Test Gazette <news@gazette.example>"\naddress: "1 Press Lane"\nbaseUrl: https://gazette.example/news\ntracking:\n  clicks: true\n  perReader: true\nutm:\n  source: newsletter\n  domains: [example.org]\n`,
    );
    const db = `sqlite:${join(await tempDir(), 'digest.db')}`;
    const sent = await runCli(['send', 'issues/week.md', '--to', 'readers.csv', '--db', db, '--via', `outbox:${join(root, 'out')}`, '--yes'], { cwd: root, env: { DIGEST_SECRET: SECRET } });
    expect(sent.code, sent.stderr).toBe(0);
    const folder = join(root, 'out', 'week-10');
    const messages = await Promise.all(readdirSync(folder).map((name) => simpleParser(readFileSync(join(folder, name)))));
    const storyLinks = new Map<string, string>();
    for (const message of messages) {
      const to = (message.to as { value: { address: string }[] }).value[0]!.address;
      const hrefs = [...String(message.html).matchAll(/href="([^"]+)"/g)].map((match) => match[1]!.replace(/&amp;/g, '&'));
      const tracked = hrefs.filter((href) => href.startsWith('https://gazette.example/news/c/'));
      expect(tracked.length).toBeGreaterThan(0);
      expect(hrefs).toContain('mailto:ed@example.org');
      for (const href of tracked) expect(href).toMatch(/\/c\/c1\.[\w-]+\/r1\.[\w-]+$/);
      expect(message.text).toContain('We record which links in this email you click.');
      storyLinks.set(to.toLowerCase(), tracked[0]!);
    }
    expect(storyLinks.get('ana@example.org')).not.toBe(storyLinks.get('bo@example.org'));

    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', DIGEST_SECRET: SECRET };
    for (const key of Object.keys(env)) if (key.startsWith('DIGEST_') && key !== 'DIGEST_SECRET') delete env[key];
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--db', db], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stderr! }).on('line', (line) => {
        lines.push(line);
        const entry = JSON.parse(line);
        if (entry.msg === 'listening') resolve(entry.url);
      });
      child.once('exit', (code) => reject(new Error(`digest serve exited ${code}: ${lines.join('\n')}`)));
    });
    try {
      const follow = async (published: string) => {
        const local = new URL(new URL(published).pathname, url);
        const response = await fetch(local, { redirect: 'manual' });
        expect(response.status).toBe(302);
        return response.headers.get('location');
      };
      expect(await follow(storyLinks.get('ana@example.org')!)).toBe('https://example.org/story?utm_source=newsletter');
      expect(await follow(storyLinks.get('ana@example.org')!)).toBe('https://example.org/story?utm_source=newsletter');
      expect(await follow(storyLinks.get('bo@example.org')!)).toBe('https://example.org/story?utm_source=newsletter');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    expect(child.exitCode).toBe(0);
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(['listening', 'request', 'request', 'request', 'stopping', 'stopped']);
    const { openStore } = await import('../../src/audience/open.js');
    const store = await openStore(db);
    try {
      const links = await store.dialect.db.selectFrom('link_clicks').selectAll().execute();
      expect(links.map(({ issue, url: target, clicks }) => ({ issue, url: target, clicks: Number(clicks) }))).toEqual([{ issue: 'week-10', url: 'https://example.org/story?utm_source=newsletter', clicks: 3 }]);
      const perReader = await store.dialect.db.selectFrom('reader_clicks').select(['email_key', 'clicks']).orderBy('email_key').execute();
      expect(perReader.map(({ email_key, clicks }) => ({ email_key, clicks: Number(clicks) }))).toEqual([
        { email_key: 'ana@example.org', clicks: 2 },
        { email_key: 'bo@example.org', clicks: 1 },
      ]);
    } finally {
      await store.close();
    }
  });
});
