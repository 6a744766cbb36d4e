import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, runCli } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'digest-pipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs digest with its output read until the first chunk, then the reading end closed, as `| head` does. */
function readFirstChunk(args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string; first: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    let first = '';
    child.stdout.once('data', (chunk) => {
      first = String(chunk);
      child.stdout.destroy();
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr, first }));
  });
}

describe('output into a pipe whose reader stops early', () => {
  it('ends quietly with the status of a tool stopped by SIGPIPE, not an internal error', async () => {
    const list = join(dir, 'list.csv');
    const rows = ['email,name'];
    for (let i = 0; i < 20_000; i++) rows.push(`reader${i}@example.com,Reader ${i}`);
    writeFileSync(list, `${rows.join('\n')}\n`);
    const db = `sqlite:${join(dir, 'digest.db')}`;
    expect((await runCli(['subscribers', 'import', list, '--db', db])).code).toBe(0);

    for (const command of [['subscribers', 'export'], ['subscribers', 'list', '--json']]) {
      const result = await readFirstChunk([...command, '--db', db]);
      expect(result.first.length).toBeGreaterThan(0);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(141);
    }
  });
});
