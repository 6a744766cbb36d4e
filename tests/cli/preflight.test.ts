import { describe, expect, it } from 'vitest';
import { runCli, tempProject } from '../helpers.js';

const clean = '---\ntitle: Clean\ndate: 2024-03-08\npreheader: All good.\n---\nHello, [our site](https://gazette.example/news).\n';

/** The command line of the preflight: which checks run, what is said when one is skipped. */
describe('digest check --preflight', () => {
  it('--offline skips the network checks and says so, in the summary line and in --json', async () => {
    const root = tempProject({ 'issues/clean.md': clean });
    const text = await runCli(['check', '--preflight', '--offline', '--checks', 'dns,links'], { cwd: root });
    expect(text.stderr).toBe('');
    expect(text.stdout).toContain('✓ issues/clean.md: 0 errors, 0 warnings; dns skipped (offline), links skipped (offline)');
    expect(text.code).toBe(0);

    const json = await runCli(['check', '--preflight', '--offline', '--checks', 'dns,links', '--json'], { cwd: root });
    const [issue] = JSON.parse(json.stdout).issues;
    expect(issue.preflight).toEqual([
      expect.objectContaining({ check: 'dns', ran: false, skipped: 'offline', errors: 0, warnings: 0 }),
      expect.objectContaining({ check: 'links', ran: false, skipped: 'offline', errors: 0, warnings: 0 }),
    ]);
  });

  it('without --preflight the output is lint alone, as before', async () => {
    const root = tempProject({ 'issues/clean.md': clean });
    const json = JSON.parse((await runCli(['check', '--json'], { cwd: root })).stdout);
    expect(json.issues[0]).not.toHaveProperty('preflight');
  });

  it('refuses an unknown check, and --offline or --checks without --preflight, in one line', async () => {
    const root = tempProject({ 'issues/clean.md': clean });
    const unknown = await runCli(['check', '--preflight', '--checks', 'dns,spelling'], { cwd: root });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('digest: --checks: no check named "spelling" (there are dns, links, spam, a11y)\n');
    const alone = await runCli(['check', '--offline'], { cwd: root });
    expect(alone.code).toBe(1);
    expect(alone.stderr).toBe('digest: --offline goes with --preflight\n');
  });
});
