import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { loadConfig, type ResolvedConfig } from '../src/config.js';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
export const fixtures = join(repo, 'tests', 'fixtures');
export const bin = join(repo, 'bin', 'digest.js');

export const sampleConfig = `name: The Test Gazette
from: "Test Gazette <news@gazette.example>"
address: "1 Press Lane, Testville"
language: en
baseUrl: https://gazette.example/news
`;

/** A fresh project folder with a config and the given files; removed after the test file. */
export function tempProject(files: Record<string, string | Buffer> = {}, config: string | null = sampleConfig): string {
  const root = mkdtempSync(join(tmpdir(), 'digest-test-'));
  if (config !== null) writeFileSync(join(root, 'digest.config.yaml'), config);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

export function fixture(...path: string[]): string {
  return readFileSync(join(fixtures, ...path), 'utf8');
}

export async function configFor(root: string): Promise<ResolvedConfig> {
  return loadConfig({ cwd: root });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real executable, as a user would, with a clean environment for our variables. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: '1', ...options.env };
    for (const key of Object.keys(env)) if (key.startsWith('DIGEST_') && !(options.env && key in options.env)) delete env[key];
    const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Fails the file if the process warned while its tests ran (pg, for one, warns once when a query is
 * queued behind a running one, which digest must never do).
 */
export function failOnWarnings(): void {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  beforeAll(() => {
    process.on('warning', onWarning);
  });
  afterAll(() => {
    process.off('warning', onWarning);
    expect(warnings).toEqual([]);
  });
}
