/** The compiled `digest archive` after a real `digest build` of the sample issues, as a user runs them. */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Parser from 'rss-parser';
import { describe, expect, test } from 'vitest';
import { repo, runCli, tempProject } from '../helpers.js';

describe('digest archive (the compiled CLI)', () => {
  test('publishes what digest build wrote: the view-in-browser link of each email resolves in the site', async () => {
    const root = tempProject();
    cpSync(join(repo, 'issues'), join(root, 'issues'), { recursive: true, filter: (source) => !source.endsWith('.csv') });
    const build = await runCli(['build'], { cwd: root });
    expect(build.code, build.stderr).toBe(0);

    const run = await runCli(['archive', '--json'], { cwd: root });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.issues).toEqual(['2024-03-15-weekly', '2024-03-08-weekly']);
    expect(result.out).toBe(join(root, 'site'));

    for (const slug of result.issues) {
      const email = readFileSync(join(root, 'build', slug, 'email.html'), 'utf8');
      const view = email.match(/href="(https:\/\/gazette\.example\/news\/issues\/[^"]+)"/)?.[1];
      expect(view, `${slug}: view-in-browser link`).toBe(`https://gazette.example/news/issues/${slug}/`);
      const page = join(root, 'site', new URL(view!).pathname.replace(/^\/news\//, ''), 'index.html');
      expect(readFileSync(page, 'utf8')).toBe(readFileSync(join(root, 'build', slug, 'web.html'), 'utf8'));
    }
    const feed = await new Parser().parseString(readFileSync(join(root, 'site', 'feed.xml'), 'utf8'));
    expect(feed.items).toHaveLength(2);

    const again = await runCli(['archive'], { cwd: root });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/archived 2 issues to site: 0 written, \d+ unchanged, 0 removed/);
  });

  test('--out chooses the folder; an unreadable config is one line, no stack', async () => {
    const root = tempProject({}, 'name: [unclosed');
    const run = await runCli(['archive', '--out', join(root, 'public')], { cwd: root });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(root, 'public'))).toBe(false);
  });
});
