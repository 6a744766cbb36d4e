import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { loadIssue, parseIssue, slugFromFile } from '../../src/issue/load.js';
import { tempProject } from '../helpers.js';

const valid = '---\ntitle: Hello\ndate: 2024-03-08\n---\nBody text.\n';

function failure(source: string): UserError {
  try {
    parseIssue(source, 'issues/x.md');
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected the issue to be rejected');
}

describe('reading an issue', () => {
  it('applies the defaults: subject from title, slug from the file name, everyone as audience', () => {
    const issue = parseIssue(valid, 'issues/2024-03-08 Weekly.md');
    expect(issue.meta).toMatchObject({ title: 'Hello', subject: 'Hello', slug: '2024-03-08-weekly', audience: [] });
    expect(issue.body).toBe('Body text.\n');
    expect(issue.bodyLine).toBe(5);
  });

  it('keeps dates as the editor wrote them (YAML 1.2: no Date objects, no time-zone shift)', () => {
    expect(parseIssue(valid, 'x.md').meta.date).toBe('2024-03-08');
  });

  it('accepts audience as one tag or a list', () => {
    expect(parseIssue(valid.replace('date:', 'audience: local\ndate:'), 'x.md').meta.audience).toEqual(['local']);
    expect(parseIssue(valid.replace('date:', 'audience: [a, b]\ndate:'), 'x.md').meta.audience).toEqual(['a', 'b']);
  });

  it('warns about unknown keys, naming their line, and keeps going', () => {
    const issue = parseIssue('---\ntitle: Hello\ndate: 2024-03-08\ncolour: red\n---\nx\n', 'x.md');
    expect(issue.warnings).toEqual([expect.objectContaining({ code: 'unknown-key', line: 4, severity: 'warning' })]);
  });

  it('strips a UTF-8 byte-order mark', async () => {
    const root = tempProject({ 'bom.md': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(valid)]) });
    expect((await loadIssue(join(root, 'bom.md'))).meta.title).toBe('Hello');
  });
});

describe('rejecting a bad issue with one line naming file and line', () => {
  it.each([
    ['broken YAML', '---\ntitle: [unclosed\ndate: 2024-03-08\n---\nx', 'invalid YAML', 3],
    ['a missing title', '---\ndate: 2024-03-08\n---\nx', 'title: title is required', 1],
    ['a date that is not a date', '---\ntitle: T\ndate: March 8th\n---\nx', 'date: must be a date as YYYY-MM-DD', 3],
    ['a date that does not exist', '---\ntitle: T\ndate: 2024-02-30\n---\nx', 'not a real calendar date', 3],
    ['send_at without an offset', '---\ntitle: T\ndate: 2024-03-08\nsend_at: 2024-03-08 07:00\n---\nx', 'send_at: must be an ISO 8601 date-time with an offset', 4],
    ['an image without alt text', '---\ntitle: T\ndate: 2024-03-08\nimage:\n  src: https://x.org/a.jpg\n---\nx', 'alt text is required', 4],
    ['a slug with a slash', '---\ntitle: T\ndate: 2024-03-08\nslug: ../up\n---\nx', 'slug: must be lower-case', 4],
    ['front matter that is never closed', '---\ntitle: T\ndate: 2024-03-08\n\nBody', 'never closed', 1],
    ['no front matter at all', '# Just Markdown\n', 'must begin with front matter', 1],
    ['front matter that is a list', '---\n- a\n- b\n---\nx', 'must be a list of settings', 2],
  ])('%s', (_, source, message, line) => {
    const error = failure(source);
    expect(error.message).toContain(message);
    expect(error.line).toBe(line);
    expect(error.located).toMatch(new RegExp(`^issues/x\\.md:${line}: `));
  });

  it('an empty file', () => {
    expect(failure('  \n\n').message).toContain('is empty');
  });

  it('a file that does not exist', async () => {
    await expect(loadIssue('/nonexistent/issue.md')).rejects.toThrow('no such file');
  });

  it('a binary file', async () => {
    const root = tempProject({ 'photo.md': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]) });
    await expect(loadIssue(join(root, 'photo.md'))).rejects.toThrow('binary file');
  });

  it('a file in another encoding, at the line of the first bad byte', async () => {
    const latin1 = Buffer.from('---\ntitle: Caf\xe9\ndate: 2024-03-08\n---\nx', 'latin1');
    const root = tempProject({ 'latin1.md': latin1 });
    const error = await loadIssue(join(root, 'latin1.md')).catch((e: UserError) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain('not UTF-8');
    expect((error as UserError).line).toBe(2);
  });
});

describe('slugs from file names', () => {
  it('folds accents, case and spaces into a URL-safe name', () => {
    expect(slugFromFile('issues/Été à Montréal!.md')).toBe('ete-a-montreal');
  });
});
