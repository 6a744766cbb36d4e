/**
 * The compiled `digest serve` as a user runs it (build first: `npx tsc -p .`): a clear one-line error
 * without DIGEST_SECRET, the JSON listening line, a one-click unsubscribe over HTTP, a clean stop
 * on SIGTERM; on SQLite and PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, test } from 'vitest';
import { openStore } from '../../src/audience/open.js';
import { sealUnsubscribe, unsubscribeKey } from '../../src/delivery/unsubscribe.js';
import { onEachDatabase, tempDir } from '../audience/databases.js';
import { bin, runCli } from '../helpers.js';
import { CONFIG, SECRET } from './helpers.js';

async function project(): Promise<string> {
  const root = await tempDir();
  writeFileSync(join(root, 'digest.config.yaml'), CONFIG);
  return root;
}

/** Starts `digest serve --port 0` and waits for its listening line. */
async function start(root: string, db: string): Promise<{ child: ChildProcess; url: string; lines: string[] }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', DIGEST_SECRET: SECRET };
  for (const key of Object.keys(env)) if (key.startsWith('DIGEST_') && key !== 'DIGEST_SECRET') delete env[key];
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--db', db], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${lines.join('\n')}`)), 20_000);
    createInterface({ input: child.stderr! }).on('line', (line) => {
      lines.push(line);
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'listening') {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not JSON: kept in lines for the failure message
      }
    });
    child.once('exit', (code) => reject(new Error(`digest serve exited ${code}: ${lines.join('\n')}`)));
  });
  return { child, url, lines };
}

describe('digest serve (the compiled CLI): refusing to start', () => {
  test('without DIGEST_SECRET: one line naming it, exit 1, nothing listening', async () => {
    const run = await runCli(['serve', '--port', '0', '--db', `sqlite:${join(await tempDir(), 'd.db')}`], { cwd: await project() });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^digest: DIGEST_SECRET must be set/)]);
  });

  test('without a public unsubscribe URL (no https baseUrl): one line saying what to set; the secret is never printed', async () => {
    const root = await tempDir();
    writeFileSync(join(root, 'digest.config.yaml'), 'name: Local\n');
    const run = await runCli(['serve', '--port', '0'], { cwd: root, env: { DIGEST_SECRET: SECRET } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/needs the public unsubscribe URL/);
    expect(run.stderr + run.stdout).not.toContain(SECRET);
  });

  test('a bad --port is refused', async () => {
    const run = await runCli(['serve', '--port', 'eighty'], { cwd: await project(), env: { DIGEST_SECRET: SECRET } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--port must be a number/);
  });
});

onEachDatabase((target) => {
  describe('digest serve (the compiled CLI)', () => {
    test('answers a one-click unsubscribe, logs JSON lines on stderr, and stops cleanly on SIGTERM', async () => {
      const db = await target.fresh();
      const store = await openStore(db, { create: true });
      try {
        await store.upsert([{ email: 'reader@example.org', international: false }], { source: 'test' });
        const server = await start(await project(), db);
        expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        const token = sealUnsubscribe({ email: 'reader@example.org', issue: 'x' }, unsubscribeKey(SECRET));
        const response = await fetch(`${server.url}/news/unsubscribe/${token}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
        });
        expect(response.status).toBe(200);
        expect(await store.get('reader@example.org')).toMatchObject({ status: 'unsubscribed', withdrawnHow: 'one-click' });
        expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

        const exited = once(server.child, 'exit');
        server.child.kill('SIGTERM');
        const [code] = await exited;
        expect(code).toBe(0);
        const entries = server.lines.map((line) => JSON.parse(line));
        expect(entries.map((entry) => entry.msg)).toEqual(['listening', 'unsubscribe', 'request', 'request', 'stopping', 'stopped']);
        expect(server.lines.join('\n')).not.toContain(token);
        expect(server.lines.join('\n')).not.toContain(SECRET);
      } finally {
        await store.close();
      }
    });
  });
});
