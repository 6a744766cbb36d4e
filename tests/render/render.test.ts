import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadIssue, parseIssue } from '../../src/issue/load.js';
import { renderIssue, type Edition } from '../../src/render/index.js';
import { configFor, fixtures, tempProject } from '../helpers.js';

/** The whole pipeline on an issue that uses every block, with the built-in template. */
describe('building an issue into email', () => {
  let edition: Edition;
  beforeAll(async () => {
    const root = tempProject();
    edition = await renderIssue(await loadIssue(join(fixtures, 'issues', 'complete.md')), await configFor(root));
  });

  it('declares the language on <html> and lays out with presentation tables at 600 px', () => {
    expect(edition.html).toMatch(/<html lang="en" dir="ltr"/);
    const tables = edition.html.match(/<table\b[^>]*>/g) ?? [];
    expect(tables.length).toBeGreaterThan(10);
    // Layout tables are announced as presentation; only the issue's own data table is not.
    const unannounced = tables.filter((tag) => !tag.includes('role="presentation"'));
    expect(unannounced).toHaveLength(1);
    expect(edition.html).toContain('max-width:600px');
  });

  it('hides the preheader and pads it so body text does not leak into the inbox preview', () => {
    const preheader = /<div class="preheader" style="([^"]*)">([^<]*)<\/div>/.exec(edition.html);
    expect(preheader?.[1]).toContain('display:none');
    expect(preheader?.[2]).toMatch(/^The Mill Street bridge is open again/);
    expect(preheader?.[2]).toContain('&#847;&zwnj;&nbsp;'.repeat(50));
  });

  it('supports dark mode with color-scheme metadata and prefers-color-scheme styles', () => {
    expect(edition.html).toContain('<meta name="color-scheme" content="light dark">');
    expect(edition.html).toContain('<meta name="supported-color-schemes" content="light dark">');
    expect(edition.html).toMatch(/@media \(prefers-color-scheme: dark\)/);
  });

  it('puts alt text on every image', () => {
    const images = edition.html.match(/<img\b[^>]*>/g) ?? [];
    expect(images.length).toBe(2);
    for (const image of images) expect(image).toMatch(/alt="[^"]+"/);
  });

  it('has one h1, the title, and an h2 per section after it', () => {
    expect(edition.html.match(/<h1\b/g)).toHaveLength(1);
    const headings = [...edition.html.matchAll(/<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1>/g)].map((m) => `h${m[1]} ${m[2]!.replace(/<[^>]+>/g, '').trim()}`);
    expect(headings).toEqual(['h1 Bridge reopens, and the budget vote', 'h2 In this issue', 'h2 The bridge is back', 'h2 Budget vote', 'h2 Library']);
  });

  it('renders the summary, the related card, the callout with its button, the caption and credit', () => {
    expect(edition.html).toMatch(/<li[^>]*>The council votes on the budget<\/li>/);
    expect(edition.html).toContain('How the repair was paid for');
    expect(edition.html).toContain('Explainer');
    expect(edition.html).toContain('Local news needs you');
    expect(edition.html).toMatch(/<a href="https:\/\/example.org\/support"[^>]*>[\s\S]*?Become a member/);
    expect(edition.html).toContain('The first cars crossed at six in the morning.');
    expect(edition.html).toContain('Photo: Lee Ortiz');
    expect(edition.html).toContain('The new reading room opens Saturday.');
  });

  it('leaves the merge fields for sending time, and compiles no per-reader content', () => {
    expect(edition.html).toContain('{{default subscriber.first_name "neighbour"}}');
    expect(edition.html).toContain('href="{{unsubscribe_url}}"');
    expect(edition.text).toContain('{{default subscriber.first_name "neighbour"}}');
    expect(edition.text).toContain('{{unsubscribe_url}}');
  });

  it('makes a web version with no placeholders left', () => {
    expect(edition.web).not.toMatch(/\{\{|\}\}/);
    expect(edition.web).toContain('Good morning, neighbour.');
    expect(edition.web).toContain('href="https://gazette.example/news/unsubscribe"');
  });

  it('links the web version from the footer, with the postal address', () => {
    expect(edition.html).toContain('href="https://gazette.example/news/issues/complete/"');
    expect(edition.html).toContain('1 Press Lane, Testville');
  });

  it('has nothing to lint in a well-formed issue', () => {
    expect(edition.diagnostics).toEqual([]);
  });
});

describe('what an issue cannot smuggle into the email', () => {
  const hostile = `---
title: "<script>alert('t')</script> & <b>bold</b>"
date: 2024-03-08
preheader: "\\"><img src=x onerror=alert(1)>"
author: "<a href='javascript:alert(1)'>me</a>"
image:
  src: "https://x.org/a.jpg\\" onerror=\\"alert(1)"
  alt: "\\" onload=\\"alert(1)"
---
Hello <script>alert('b')</script><img src="https://x.org/i.png" alt="i" onerror="alert(2)">
<iframe src="https://evil.example"></iframe>

[click](javascript:alert(3)) <a href="https://x.org" onclick="alert(4)" style="position:fixed">x</a>

## Section <em onmouseover="alert(5)">five</em>
`;

  let html: string;
  beforeAll(async () => {
    const root = tempProject();
    html = (await renderIssue(parseIssue(hostile, 'hostile.md'), await configFor(root))).html;
  });

  it('escapes front matter values', () => {
    expect(html).toContain('&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;');
    expect(html).not.toContain("<script>alert('t')");
  });

  it('sanitizes raw HTML in the body: no script, no iframe, no event handlers, no javascript: links', () => {
    expect(html).not.toMatch(/<script\b(?![^>]*type="text\/css")/i);
    expect(html).not.toMatch(/<iframe/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=\s*["']?alert/i);
    expect(html).not.toMatch(/(href|src)\s*=\s*["']?\s*javascript:/i);
    expect(html).toContain('Hello');
  });
});

describe('templates', () => {
  it('lets a project override one partial and keep the rest of the default', async () => {
    const root = tempProject({
      'templates/default/partials/footer.mjml.hbs':
        '<mj-section><mj-column><mj-text>Our own footer <a href="\\{{unsubscribe_url}}">leave</a></mj-text></mj-column></mj-section>',
      'issues/a.md': '---\ntitle: T\ndate: 2024-03-08\n---\n## S\n\nText.\n',
    });
    const edition = await renderIssue(await loadIssue(join(root, 'issues/a.md')), await configFor(root));
    expect(edition.html).toContain('Our own footer');
    expect(edition.html).toContain('The Test Gazette');
    expect(edition.html).not.toContain('You are receiving this email');
  });

  it('picks another template by name from the issue', async () => {
    const root = tempProject({
      'templates/plain/partials/masthead.mjml.hbs': '<mj-section><mj-column><mj-text>PLAIN MASTHEAD</mj-text></mj-column></mj-section>',
      'issues/a.md': '---\ntitle: T\ndate: 2024-03-08\ntemplate: plain\n---\nText.\n',
    });
    const edition = await renderIssue(await loadIssue(join(root, 'issues/a.md')), await configFor(root));
    expect(edition.html).toContain('PLAIN MASTHEAD');
  });

  it('rejects an unknown template by name', async () => {
    const root = tempProject({ 'issues/a.md': '---\ntitle: T\ndate: 2024-03-08\ntemplate: fancy\n---\nText.\n' });
    await expect(renderIssue(await loadIssue(join(root, 'issues/a.md')), await configFor(root))).rejects.toThrow('unknown template "fancy"');
  });

  it('reports a template syntax error against the template file and line', async () => {
    const root = tempProject({
      'templates/default/partials/footer.mjml.hbs': '<mj-section>\n{{#if x}}\n</mj-section>\n',
      'issues/a.md': '---\ntitle: T\ndate: 2024-03-08\n---\nText.\n',
    });
    const error = await renderIssue(await loadIssue(join(root, 'issues/a.md')), await configFor(root)).catch((e) => e);
    expect(error.file).toMatch(/templates\/default\/partials\/footer\.mjml\.hbs$/);
    expect(error.message).toContain('template syntax error');
  });
});

describe('the subscribe box and the sign-up confirmation', () => {
  it('points the subscribe box at digest serve’s own page when sign-up is on and no subscribeUrl is set', async () => {
    const config = 'name: The Test Gazette\nbaseUrl: https://gazette.example/news\naddress: "1 Press Lane"\n';
    const issue = parseIssue('---\ntitle: A week\ndate: 2026-11-27\n---\nHello.\n', 'week.md');
    const off = await renderIssue(issue, await configFor(tempProject({}, config)));
    expect(off.html).not.toContain('https://gazette.example/news/subscribe');
    const on = await renderIssue(issue, await configFor(tempProject({}, `${config}signup:\n  enabled: true\n`)));
    expect(on.html).toContain('href="https://gazette.example/news/subscribe"');
    const chosen = await renderIssue(issue, await configFor(tempProject({}, `${config}subscribeUrl: https://gazette.example/join\nsignup:\n  enabled: true\n`)));
    expect(chosen.html).toContain('href="https://gazette.example/join"');
  });

  it('renders a transactional message with no date, web version, subscribe box or unsubscribe line, and says why it came', async () => {
    const config = await configFor(tempProject({}, 'name: The Test Gazette\nbaseUrl: https://gazette.example/news\naddress: "1 Press Lane"\nsignup:\n  enabled: true\n'));
    const issue = parseIssue('---\ntitle: Please confirm\ndate: 2026-11-27\n---\nPress the button.\n', 'confirm.md');
    const issueLike = await renderIssue(issue, config);
    const message = await renderIssue(issue, config, undefined, { transactional: true });
    expect(issueLike.html).toContain('{{unsubscribe_url}}');
    expect(issueLike.html).toContain('November 27, 2026');
    expect(message.html).not.toContain('{{unsubscribe_url}}');
    expect(message.html).not.toContain('November 27, 2026');
    expect(message.html).not.toContain('https://gazette.example/news/issues/');
    expect(message.html).not.toContain('https://gazette.example/news/subscribe');
    expect(message.html).toContain('entered in the sign-up form of The Test Gazette');
    expect(message.diagnostics.filter((diagnostic) => diagnostic.severity === 'error')).toEqual([]);
  });
});
