import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, runCli, tempProject } from '../helpers.js';

describe('digest build', () => {
  it('writes the email HTML, the text part, the web version and a manifest for every issue', async () => {
    const root = tempProject({ 'issues/2024-03-08-complete.md': fixture('issues', 'complete.md'), 'issues/second.md': '---\ntitle: Two\ndate: 2024-03-15\npreheader: p\n---\nHi.\n' });
    const result = await runCli(['build'], { cwd: root });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/built issues\/2024-03-08-complete\.md → build\/2024-03-08-complete\/ \(email \d+\.\d KB, text \d+\.\d KB\)/);
    for (const part of ['email.html', 'email.txt', 'web.html', 'edition.json']) {
      expect(existsSync(join(root, 'build', '2024-03-08-complete', part))).toBe(true);
      expect(existsSync(join(root, 'build', 'second', part))).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(root, 'build', '2024-03-08-complete', 'edition.json'), 'utf8'));
    expect(manifest).toMatchObject({ slug: '2024-03-08-complete', subject: 'Bridge reopens; budget vote Tuesday', send_at: '2024-03-08T07:00:00-05:00', audience: ['weekly', 'local'] });
  });

  it('--json prints exactly one document describing each output', async () => {
    const root = tempProject({ 'issues/a.md': fixture('issues', 'complete.md') });
    const result = await runCli(['build', '--json', '--out', 'site'], { cwd: root });
    expect(result.code).toBe(0);
    const document = JSON.parse(result.stdout);
    expect(document).toEqual({
      issues: [
        {
          file: 'issues/a.md',
          slug: 'a',
          subject: 'Bridge reopens; budget vote Tuesday',
          preheader: 'The Mill Street bridge is open again, and the council sets its budget on Tuesday night.',
          html: join(root, 'site', 'a', 'email.html'),
          text: join(root, 'site', 'a', 'email.txt'),
          web: join(root, 'site', 'a', 'web.html'),
          htmlBytes: readFileSync(join(root, 'site', 'a', 'email.html')).length,
          warnings: [],
        },
      ],
    });
  });

  it('prints lint warnings with file and line, and still builds', async () => {
    const root = tempProject({ 'issues/a.md': '---\ntitle: T\ndate: 2024-03-08\npreheader: p\n---\nSee [this](http://old.example.org).\n' });
    const result = await runCli(['build'], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('issues/a.md:6: warning insecure-link: http://old.example.org is not https');
  });

  it.each([
    ['broken YAML', '---\ntitle: "unclosed\ndate: 2024-03-08\n---\nx\n', /^digest: issues\/bad\.md:\d+: error invalid-yaml: invalid YAML: .+\n$/],
    ['a missing title', '---\ndate: 2024-03-08\n---\nx\n', /^digest: issues\/bad\.md:1: error invalid-setting: title: title is required\n$/],
    ['an unclosed directive', '---\ntitle: T\ndate: 2024-03-08\n---\n:::callout\nGive\n', /^digest: issues\/bad\.md:5: error unclosed-directive: :::callout is never closed/],
    ['an unknown directive', '---\ntitle: T\ndate: 2024-03-08\n---\n::poll[Q]\n', /^digest: issues\/bad\.md:5: error unknown-directive: unknown directive ::poll/],
    ['an unknown template', '---\ntitle: T\ndate: 2024-03-08\ntemplate: nope\n---\nx\n', /^digest: issues\/bad\.md: error invalid-input: unknown template "nope"/],
  ])('rejects %s in one line, exit 1, writing nothing for it, while building the rest', async (_, source, line) => {
    const root = tempProject({ 'issues/bad.md': source, 'issues/good.md': '---\ntitle: G\ndate: 2024-03-08\npreheader: p\n---\nx\n' });
    const result = await runCli(['build'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(line);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(root, 'build', 'bad'))).toBe(false);
    expect(existsSync(join(root, 'build', 'good', 'email.html'))).toBe(true);
  });

  // An issue that renders but has an error diagnostic is as bad as one that does not: check exits 1
  // on it, so build must neither write it nor exit 0.
  const good = '---\ntitle: G\ndate: 2024-03-08\npreheader: p\n---\nx\n';
  const paragraph = 'A paragraph long enough to add up quickly, repeated until the email is far past the clip limit. '.repeat(4);
  const clipped = `---\ntitle: Long\ndate: 2024-03-08\npreheader: p\n---\n${Array.from({ length: 900 }, () => paragraph).join('\n\n')}\n`;

  it.each([
    ['an email Gmail would clip', clipped, /^digest: issues\/bad\.md: error gmail-clip: the HTML is \d{3}\.\d KB: Gmail clips messages over 102 KB/],
    ['an unknown merge field', '---\ntitle: T\ndate: 2024-03-08\npreheader: p\n---\nHi.\n\nHello {{subscriber.nmae}}.\n', /^digest: issues\/bad\.md:8: error unknown-merge-field: unknown merge field "subscriber.nmae"/],
  ])('refuses %s as check does: one line, exit 1, writing nothing for it, while building the rest', async (_, source, line) => {
    const root = tempProject({ 'issues/bad.md': source, 'issues/good.md': good });
    const check = await runCli(['check', 'issues/bad.md'], { cwd: root });
    expect(check.code).toBe(1);
    const result = await runCli(['build'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(line);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    // The same finding check prints, prefixed as every build failure is.
    expect(result.stderr).toBe(`digest: ${check.stdout.split('\n')[0]}\n`);
    expect(result.stdout).toMatch(/^built issues\/good\.md → build\/good\//);
    expect(result.stdout).not.toContain('bad.md');
    expect(existsSync(join(root, 'build', 'bad'))).toBe(false);
    expect(existsSync(join(root, 'build', 'good', 'email.html'))).toBe(true);
  });

  it('--json with an error diagnostic is still one document, giving the errors of the issue it did not write', async () => {
    const root = tempProject({ 'issues/bad.md': clipped, 'issues/good.md': good });
    const result = await runCli(['build', '--json'], { cwd: root });
    expect(result.code).toBe(1);
    const document = JSON.parse(result.stdout);
    expect(document.issues).toEqual([
      {
        file: 'issues/bad.md',
        slug: 'bad',
        errors: [{ code: 'gmail-clip', severity: 'error', message: expect.stringMatching(/^the HTML is \d{3}\.\d KB: Gmail clips/) }],
        warnings: [],
      },
      expect.objectContaining({ file: 'issues/good.md', slug: 'good', html: join(root, 'build', 'good', 'email.html'), warnings: [] }),
    ]);
    expect(result.stderr).toMatch(/^digest: issues\/bad\.md: error gmail-clip: /);
    expect(existsSync(join(root, 'build', 'bad'))).toBe(false);
  });

  it('keeps the previous outputs of an issue whose new version is broken', async () => {
    const root = tempProject({ 'issues/a.md': '---\ntitle: First\ndate: 2024-03-08\n---\nx\n' });
    expect((await runCli(['build'], { cwd: root })).code).toBe(0);
    const before = readFileSync(join(root, 'build', 'a', 'email.html'), 'utf8');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(root, 'issues', 'a.md'), '---\ntitle: [broken\n---\nx\n');
    expect((await runCli(['build'], { cwd: root })).code).toBe(1);
    expect(readFileSync(join(root, 'build', 'a', 'email.html'), 'utf8')).toBe(before);
  });

  it('names a file that does not exist', async () => {
    const root = tempProject();
    const result = await runCli(['build', 'issues/missing.md'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('digest: issues/missing.md: error unreadable-file: no such file\n');
  });

  it('shows the stack trace with --debug only', async () => {
    const root = tempProject();
    const result = await runCli(['build', '--debug', 'nope.md'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no such file');
    expect(result.stderr).toMatch(/\n\s+at readText \(/);
  });

  it('rejects a broken config file at its line', async () => {
    const root = tempProject({ 'issues/a.md': '---\ntitle: T\ndate: 2024-03-08\n---\nx\n' }, 'name: X\nbrand:\n  color: blue\n');
    const result = await runCli(['build'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('digest: digest.config.yaml:3: brand.color: must be a hex colour such as #1d4ed8\n');
  });

  it('says so when there is nothing to build', async () => {
    const root = tempProject();
    const result = await runCli(['build'], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^digest: no issues folder at issues/);
  });
});
