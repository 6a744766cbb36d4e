import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempProject } from '../helpers.js';

const clean = '---\ntitle: Clean\ndate: 2024-03-08\npreheader: All good.\n---\nHello.\n';
const warned = '---\ntitle: Warned\ndate: 2024-03-08\npreheader: p\n---\n[old](http://x.org)\n';
const broken = '---\ntitle: Broken\ndate: 2024-03-08\npreheader: p\n---\n![](https://x.org/a.png)\n';

describe('digest check', () => {
  it('passes clean issues without writing anything', async () => {
    const root = tempProject({ 'issues/clean.md': clean });
    const result = await runCli(['check'], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('✓ issues/clean.md: 0 errors, 0 warnings\n');
    expect(existsSync(join(root, 'build'))).toBe(false);
  });

  it('exits 1 on an error, 0 on warnings, and 1 on warnings with --strict', async () => {
    const root = tempProject({ 'issues/warned.md': warned, 'issues/broken.md': broken });
    expect((await runCli(['check', 'issues/warned.md'], { cwd: root })).code).toBe(0);
    expect((await runCli(['check', '--strict', 'issues/warned.md'], { cwd: root })).code).toBe(1);
    const result = await runCli(['check', 'issues/broken.md'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('issues/broken.md:6: error missing-alt:');
  });

  it('--json carries every finding with its code, and failures to parse as errors', async () => {
    const root = tempProject({ 'issues/a-warned.md': warned, 'issues/b-broken.md': broken, 'issues/c-bad.md': '---\ntitle: T\ndate: 2024-03-08\n---\n::poll[Q]\n' });
    const result = await runCli(['check', '--json'], { cwd: root });
    expect(result.code).toBe(1);
    const { issues } = JSON.parse(result.stdout);
    expect(issues).toEqual([
      { file: 'issues/a-warned.md', slug: 'a-warned', errors: [], warnings: [expect.objectContaining({ code: 'insecure-link', line: 6, severity: 'warning' })] },
      { file: 'issues/b-broken.md', slug: 'b-broken', errors: [expect.objectContaining({ code: 'missing-alt', line: 6 })], warnings: [] },
      { file: 'issues/c-bad.md', slug: null, errors: [expect.objectContaining({ code: 'unknown-directive', line: 5 })], warnings: [] },
    ]);
  });
});
