import { describe, expect, it } from 'vitest';
import { runCli, tempProject } from '../helpers.js';

/** NODE_DEBUG=module logs every CommonJS load, which is how mjml and the drivers arrive. */
const loads = (stderr: string, name: string) => new RegExp(`node_modules/${name}/`).test(stderr);

describe('digest --help', () => {
  it('lists the commands', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['build', 'check', 'init', 'preview']) expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('loads neither mjml nor a database driver', async () => {
    const result = await runCli(['--help'], { env: { NODE_DEBUG: 'module' } });
    expect(loads(result.stderr, 'mjml')).toBe(false);
    expect(loads(result.stderr, 'better-sqlite3')).toBe(false);
    expect(loads(result.stderr, 'pg')).toBe(false);
  });

  it('(while building does load mjml, so the check above can tell)', async () => {
    const root = tempProject({ 'issues/a.md': '---\ntitle: T\ndate: 2024-03-08\n---\nx\n' });
    const result = await runCli(['build'], { cwd: root, env: { NODE_DEBUG: 'module' } });
    expect(loads(result.stderr, 'mjml')).toBe(true);
  });

  it('rejects an unknown command with a hint and a non-zero exit', async () => {
    const result = await runCli(['biuld']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'biuld'");
  });
});
