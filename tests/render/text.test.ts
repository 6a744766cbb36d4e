import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadIssue } from '../../src/issue/load.js';
import { renderIssue } from '../../src/render/index.js';
import { htmlToText } from '../../src/render/text.js';
import { configFor, fixtures, tempProject } from '../helpers.js';

describe('the plain-text part', () => {
  let text: string;
  beforeAll(async () => {
    const root = tempProject();
    text = (await renderIssue(await loadIssue(join(fixtures, 'issues', 'complete.md')), await configFor(root))).text;
  });

  it('keeps every link as its URL', () => {
    for (const url of ['https://example.org/bridge', 'https://example.org/bridge-money', 'https://example.org/support', 'https://gazette.example/news/issues/complete/']) {
      expect(text).toContain(`<${url}>`);
    }
  });

  it('marks headings so sections stand out', () => {
    expect(text).toMatch(/^BRIDGE REOPENS, AND THE BUDGET VOTE$/m);
    expect(text).toMatch(/^THE BRIDGE IS BACK$/m);
    expect(text).toMatch(/^IN THIS ISSUE$/m);
  });

  it('lists the summary and keeps table rows readable', () => {
    expect(text).toMatch(/^ \* The Mill Street bridge is open again$/m);
    expect(text).toMatch(/Roads\s+\$1\.2m/);
  });

  it('wraps prose near 78 columns and never passes the 998-character line limit', () => {
    const lines = text.split('\n');
    const long = lines.filter((line) => line.length > 78 && !/<https?:\/\/\S+>/.test(line) && !line.includes('{{'));
    expect(long).toEqual([]);
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(998);
  });

  it('holds no HTML, no hidden preheader filler and no directive syntax', () => {
    expect(text).not.toMatch(/<\/?[a-z][a-z0-9]*[\s>]/i);
    expect(text).not.toMatch(/&[a-z]+;|&#\d+;|\u034f|\u200c/);
    expect(text).not.toMatch(/:::|::button|::related/);
    expect(text).not.toContain('The Mill Street bridge is open again, and the council');
  });
});

describe('converting HTML to text', () => {
  it('never splits a merge field across lines when wrapping', () => {
    const words = 'word '.repeat(14);
    const text = htmlToText(`<p>${words}{{default subscriber.first_name "dear reader of ours"}} ${words}</p>`);
    expect(text).toContain('{{default subscriber.first_name "dear reader of ours"}}');
  });

  it('breaks a line longer than SMTP allows', () => {
    const url = `https://example.org/${'a'.repeat(1500)}`;
    const text = htmlToText(`<p><a href="${url}">x</a></p>`);
    expect(Math.max(...text.split('\n').map((line) => line.length))).toBeLessThanOrEqual(998);
  });
});
