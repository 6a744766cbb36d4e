/**
 * The report behind `digest serve`: off unless DIGEST_REPORT_TOKEN is set, and then only for whoever
 * gives the token (a browser's Basic prompt, or a Bearer header). Never cached or indexed.
 */
import { describe, expect, test } from 'vitest';
import { runCli, tempProject } from '../helpers.js';
import { CONFIG, hasStackTrace, SECRET, serve } from './helpers.js';
import { tempDir } from '../audience/databases.js';

const TOKEN = 'report token for the test, long enough';
const basic = (password: string, user = 'editor') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the report in digest serve', () => {
  test('is not served without a token in the environment', async () => {
    const s = await serve(`sqlite:${await tempDir()}/digest.db`);
    const response = await fetch(`${s.url}/news/report`, { headers: { authorization: basic(TOKEN) } });
    expect(response.status).toBe(404);
  });

  test('asks for the token, refuses a wrong one, and shows the report for the right one, uncached', async () => {
    const s = await serve(`sqlite:${await tempDir()}/digest.db`, { reportToken: TOKEN });
    await s.subscribe('ana@example.org', 'bo@example.org');
    const url = `${s.url}/news/report`;

    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="digest report", charset="UTF-8"');
    expect(await anonymous.text()).not.toContain('How the list is doing');
    for (const authorization of [basic('wrong token, also long enough to pass'), basic(TOKEN.slice(0, -1)), `Bearer ${TOKEN}x`, basic(''), 'Basic !!!', TOKEN]) {
      const refused = await fetch(url, { headers: { authorization } });
      expect(refused.status, authorization).toBe(401);
    }
    expect(s.logs.filter((entry) => entry.msg === 'report refused')).toHaveLength(7);
    expect(JSON.stringify(s.logs)).not.toContain(TOKEN.slice(0, -1));

    for (const authorization of [basic(TOKEN), basic(TOKEN, ''), `Bearer ${TOKEN}`]) {
      const shown = await fetch(url, { headers: { authorization } });
      expect(shown.status, authorization).toBe(200);
      expect(shown.headers.get('cache-control')).toBe('no-store, private');
      expect(shown.headers.get('x-robots-tag')).toBe('noindex');
      const html = await shown.text();
      expect(html).toContain('How the list is doing');
      expect(html).toMatch(/<dt>Subscribed<\/dt><dd>2<\/dd>/);
    }
    const unknown = await fetch(`${url}?issue=never-sent`, { headers: { authorization: basic(TOKEN) } });
    expect(unknown.status).toBe(404);
    expect(hasStackTrace(await unknown.text())).toBe(false);
    expect((await fetch(url, { method: 'POST', headers: { authorization: basic(TOKEN) } })).status).toBe(405);
  });

  test('digest serve refuses a token short enough to guess, in one line', async () => {
    const root = tempProject({}, `${CONFIG}unsubscribeUrl: https://gazette.example/u\n`);
    const result = await runCli(['serve', '--port', '0'], { cwd: root, env: { DIGEST_SECRET: SECRET, DIGEST_REPORT_TOKEN: 'short' } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('digest: DIGEST_REPORT_TOKEN must be at least 24 characters (a random string: it guards the report)');
  });
});
