/**
 * The links of the built email: UTM parameters on the config's domains only, then every web link
 * through the /c/ redirect, leaving alone what must stay as written (mailto:, tel:, anchors, merge
 * fields, the unsubscribe endpoint, the subscribe page, tracked links). The web version keeps the
 * links untracked; the footer says so when clicks are kept per reader; the settings are checked at
 * their line.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type ResolvedConfig } from '../../src/config.js';
import { parseIssue } from '../../src/issue/load.js';
import { catalogue } from '../../src/render/labels.js';
import { renderIssue } from '../../src/render/index.js';
import { addUtm, linkSteps, trackLinks } from '../../src/render/track-links.js';
import { clickKey, openClick, type ClickKey } from '../../src/tracking/token.js';
import { compileMerge } from '../../src/render/merge.js';
import { configFor, runCli, tempProject } from '../helpers.js';

const SECRET = 'test secret: at least thirty-two characters long';
const key = clickKey(SECRET);

const newsletter = `name: The Test Gazette
address: "1 Press Lane"
baseUrl: https://gazette.example/news
`;
const utm = `utm:
  source: newsletter
  medium: email
  campaign: "{{slug}}-{{ slug }}"
  domains: [example.org, Valley.example]
`;
const tracking = (perReader = false) => `tracking:\n  clicks: true\n${perReader ? '  perReader: true\n' : ''}`;

const issueText = (frontMatter = '', body = 'Hello.') => `---\ntitle: A week\ndate: 2024-03-08\nslug: week-10\n${frontMatter}---\n${body}\n`;

async function setup(config: string, frontMatter = '') {
  const resolved = await configFor(tempProject({}, config));
  const meta = parseIssue(issueText(frontMatter), 'week.md').meta;
  return { config: resolved, steps: linkSteps(meta, resolved, resolved.tracking.clicks ? key : undefined) };
}

/** Every href of the markup, entities decoded as a browser would. */
const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]!.replace(/&amp;/g, '&'));

describe('UTM parameters', () => {
  it('go on links to the listed domains and their subdomains, nowhere else', async () => {
    const { steps } = await setup(newsletter + utm);
    const html = addUtm(
      [
        '<a href="https://example.org/a">',
        '<a href="https://news.example.org/b">',
        '<a href="https://VALLEY.example/c">',
        '<a href="https://notexample.org/d">',
        '<a href="https://example.org.evil.example/e">',
        '<a href="http://example.net/f">',
      ].join(''),
      steps,
    );
    expect(hrefs(html)).toEqual([
      'https://example.org/a?utm_source=newsletter&utm_medium=email&utm_campaign=week-10-week-10',
      'https://news.example.org/b?utm_source=newsletter&utm_medium=email&utm_campaign=week-10-week-10',
      'https://VALLEY.example/c?utm_source=newsletter&utm_medium=email&utm_campaign=week-10-week-10',
      'https://notexample.org/d',
      'https://example.org.evil.example/e',
      'http://example.net/f',
    ]);
  });

  it('keep a utm_* parameter the link has, the link’s own query as written, and its fragment last', async () => {
    const { steps } = await setup(newsletter + utm);
    const html = addUtm('<a href="https://example.org/s?q=a%20b,c&amp;utm_source=twitter#top">x</a><a href="https://example.org/?">y</a>', steps);
    expect(hrefs(html)).toEqual([
      'https://example.org/s?q=a%20b,c&utm_source=twitter&utm_medium=email&utm_campaign=week-10-week-10#top',
      'https://example.org/?utm_source=newsletter&utm_medium=email&utm_campaign=week-10-week-10',
    ]);
    const complete = '<a href="https://example.org/?utm_source=a&amp;utm_medium=b&amp;utm_campaign=c">z</a>';
    expect(addUtm(complete, steps)).toBe(complete);
  });

  it('never go on the unsubscribe link, mailto:, tel:, anchors, merge fields or tracked links, even on a listed domain', async () => {
    const { steps } = await setup(`${newsletter}${utm.replace('[example.org, Valley.example]', '[example.org, gazette.example]')}`);
    const untouched = [
      '<a href="{{unsubscribe_url}}">u</a>',
      '<a href="https://gazette.example/news/unsubscribe">u</a>',
      '<a href="https://gazette.example/news/unsubscribe/u1.abc">u</a>',
      '<a href="https://gazette.example/news/c/c1.abc">c</a>',
      '<a href="mailto:editor@example.org?subject=hi">m</a>',
      '<a href="tel:+15551234">t</a>',
      '<a href="#section">a</a>',
      '<a href="https://example.org/{{subscriber.attributes.city}}">f</a>',
    ].join('');
    expect(addUtm(untouched, steps)).toBe(untouched);
    expect(hrefs(addUtm('<a href="https://gazette.example/news/unsubscribe-faq">x</a>', steps))[0]).toContain('utm_source=newsletter');
    // Not a URL a browser could open: left as the editor wrote it, for the link check to report.
    const broken = '<a href="https://exa mple.org/">x</a><a href="https://[example.org/">y</a>';
    expect(addUtm(broken, steps)).toBe(broken);
    expect(trackLinks(broken, (await setup(newsletter + tracking())).steps)).toBe(broken);
  });

  it('take the front matter’s value for each key it sets, the config’s for the rest', async () => {
    const { steps } = await setup(newsletter + utm, 'utm:\n  campaign: spring {{slug}}\n  source: digest\n');
    expect(hrefs(addUtm('<a href="https://example.org/">x</a>', steps))).toEqual(['https://example.org/?utm_source=digest&utm_medium=email&utm_campaign=spring%20week-10']);
  });

  it('are added to nothing without domains, and nothing is added without values', async () => {
    const html = '<a href="https://example.org/">x</a>';
    expect(addUtm(html, (await setup(`${newsletter}utm:\n  source: newsletter\n`)).steps)).toBe(html);
    expect(addUtm(html, (await setup(`${newsletter}utm:\n  domains: [example.org]\n`)).steps)).toBe(html);
  });
});

describe('tracked links', () => {
  const opened = (href: string, k: ClickKey = key) => {
    const match = /^https:\/\/gazette\.example\/news\/c\/([^/]+)(\/.*)?$/.exec(href);
    return match ? { ...openClick(match[1]!, k), rest: match[2] } : undefined;
  };

  it('send each web link through <baseUrl>/c/<token>, which opens to the link as UTM left it', async () => {
    const { steps } = await setup(newsletter + utm + tracking());
    const html = trackLinks(addUtm('<p><a class="x" href="https://example.org/a?b=1&amp;c=2" title="t">a</a> <a href=https://other.example/>b</a></p>', steps), steps);
    const [first, second] = hrefs(html);
    expect(opened(first!)).toMatchObject({ issue: 'week-10', url: 'https://example.org/a?b=1&c=2&utm_source=newsletter&utm_medium=email&utm_campaign=week-10-week-10', rest: undefined });
    expect(opened(second!)).toMatchObject({ issue: 'week-10', url: 'https://other.example/' });
    // Only the href changes; every other byte stays.
    expect(html.replace(/href="[^"]*"/g, 'href')).toBe('<p><a class="x" href title="t">a</a> <a href>b</a></p>');
  });

  it('give a link repeated in the issue one token', async () => {
    const { steps } = await setup(newsletter + tracking());
    const [a, b, c] = hrefs(trackLinks('<a href="https://x.example/1">a</a><a href="https://x.example/1">b</a><a href="https://x.example/2">c</a>', steps));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('end in the reader’s merge field with perReader', async () => {
    const { steps } = await setup(newsletter + tracking(true));
    const [href] = hrefs(trackLinks('<a href="https://x.example/1">a</a>', steps));
    expect(opened(href!)).toMatchObject({ url: 'https://x.example/1', rest: '/{{click_reader}}' });
  });

  it('leave alone the unsubscribe link, the subscribe page, mailto:, tel:, anchors, merge fields, relative links and links already tracked', async () => {
    const { steps } = await setup(`${newsletter}subscribeUrl: https://gazette.example/join\n${tracking()}`);
    const untouched = [
      '<a href="{{unsubscribe_url}}">u</a>',
      '<a href="https://gazette.example/news/unsubscribe/u1.abc">u</a>',
      '<a href="https://gazette.example/join">s</a>',
      '<a href="https://gazette.example/join/?ref=footer">s</a>',
      '<a href="https://gazette.example/news/c/c1.abc">c</a>',
      '<a href="mailto:editor@example.org">m</a>',
      '<a href="tel:+15551234">t</a>',
      '<a href="#top">a</a>',
      '<a href="{{subscriber.attributes.link}}">f</a>',
      '<a href="https://x.example/?who={{subscriber.email}}">f</a>',
      '<a href="issues/week/">r</a>',
      '<a href="javascript:alert(1)">j</a>',
      '<a href>empty</a>',
      '<!-- <a href="https://x.example/in-a-comment"> -->',
      '<style>a[href="https://x.example/in-css"] { color: red }</style>',
      '<img src="https://x.example/image.png" alt="">',
      '<link href="https://x.example/style.css" rel="stylesheet">',
      '<a data-href="https://x.example/data">d</a>',
    ].join('');
    expect(trackLinks(untouched, steps)).toBe(untouched);
    expect(opened(hrefs(trackLinks('<a href="https://gazette.example/joining">x</a>', steps))[0]!)).toMatchObject({ url: 'https://gazette.example/joining' });
  });

  it('take the first href of a tag, as a browser does', async () => {
    const { steps } = await setup(newsletter + tracking());
    const html = trackLinks('<a href="https://x.example/first" href="https://x.example/second">x</a>', steps);
    expect(opened(hrefs(html)[0]!)).toMatchObject({ url: 'https://x.example/first' });
    expect(hrefs(html)[1]).toBe('https://x.example/second');
  });

  it('are not made without tracking.clicks, or without a key', async () => {
    const html = '<a href="https://x.example/">x</a>';
    expect(trackLinks(html, (await setup(newsletter)).steps)).toBe(html);
    const on = await setup(newsletter + tracking());
    expect(trackLinks(html, linkSteps(parseIssue(issueText(), 'week.md').meta, on.config, undefined))).toBe(html);
  });
});

describe('an issue built with tracking', () => {
  const body = `Read [the story](https://example.org/story) and [the other](https://elsewhere.example/x), or [write](mailto:ed@example.org).

::button[Support us]{href="https://example.org/support"}
`;
  const build = async (config: string, options: Parameters<typeof renderIssue>[3] = {}) =>
    renderIssue(parseIssue(issueText('', body), 'week.md'), await configFor(tempProject({}, config)), undefined, { secret: SECRET, ...options });

  it('tracks the email’s links, HTML and text; the web version keeps them untracked with their UTM', async () => {
    const edition = await build(newsletter + utm + tracking());
    const email = hrefs(edition.html);
    const tracked = email.filter((href) => href.startsWith('https://gazette.example/news/c/'));
    // The story, the other, the button, the web version link, the subscribe box.
    expect(tracked.map((href) => openClick(href.split('/c/')[1]!, key)?.url).sort()).toEqual(
      [
        'https://elsewhere.example/x',
        'https://example.org/story?utm_source=newsletter&utm_medium=email&utm_campaign=week-10-week-10',
        'https://example.org/support?utm_source=newsletter&utm_medium=email&utm_campaign=week-10-week-10',
        'https://gazette.example/news/issues/week-10/',
      ].sort(),
    );
    expect(email).toContain('{{unsubscribe_url}}');
    expect(email).toContain('mailto:ed@example.org');
    expect(email).toContain('https://gazette.example/news');
    expect(edition.text).toContain('<https://gazette.example/news/c/c1.');
    expect(edition.text).not.toContain('https://example.org/story');

    for (const html of [edition.web, edition.untracked]) {
      expect(html).not.toContain('/c/c1.');
      expect(hrefs(html)).toContain('https://example.org/story?utm_source=newsletter&utm_medium=email&utm_campaign=week-10-week-10');
      expect(hrefs(html)).toContain('https://elsewhere.example/x');
    }
    expect(hrefs(edition.web)).toContain('https://gazette.example/news/unsubscribe');
    expect(edition.readerLinks).toBe(false);
    expect(edition.html).not.toContain(catalogue.en!.tracked);
  });

  it('per reader: each link ends in the reader’s token, and the footer says so to readers, not on the web', async () => {
    const edition = await build(newsletter + tracking(true));
    expect(edition.readerLinks).toBe(true);
    const tracked = hrefs(edition.html).filter((href) => href.includes('/c/'));
    expect(tracked.length).toBeGreaterThan(2);
    for (const href of tracked) expect(href).toMatch(/\/c\/c1\.[A-Za-z0-9_-]+\/\{\{click_reader\}\}$/);
    const reader = { subscriber: {}, unsubscribe_url: 'https://gazette.example/news/unsubscribe/u1.x', click_reader: 'r1.token' };
    expect(compileMerge(edition.html)(reader)).toContain(`<p style="margin:0 0 8px;">${catalogue.en!.tracked}</p>`);
    const text = compileMerge(edition.text, 'text')(reader);
    expect(text).toContain(`The Test Gazette.\n\n${catalogue.en!.tracked}\n\nView in browser`);
    expect(text).toMatch(/\/c\/c1\.[A-Za-z0-9_-]+\/r1\.token>/);
    expect(edition.web).not.toContain(catalogue.en!.tracked);
    expect(edition.web).not.toContain('click_reader');
    expect(edition.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('says it in the issue’s language', async () => {
    const edition = await build(`${newsletter}language: uk\n${tracking(true)}`);
    expect(compileMerge(edition.html)({ subscriber: {}, unsubscribe_url: '', click_reader: 'r1.x' })).toContain(catalogue.uk!.tracked);
  });

  it('leaves links as written for the preview (track: false) and the sign-up confirmation, and needs no secret there', async () => {
    const preview = await build(newsletter + tracking(true), { track: false, secret: undefined });
    expect(preview.html).not.toContain('/c/c1.');
    expect(preview.readerLinks).toBe(false);
    const confirmation = await build(newsletter + tracking(true), { transactional: true, secret: undefined });
    expect(confirmation.html).not.toContain('/c/c1.');
  });

  it('without DIGEST_SECRET: the missing-secret error, before anything is built', async () => {
    const saved = process.env.DIGEST_SECRET;
    delete process.env.DIGEST_SECRET;
    try {
      await expect(build(newsletter + tracking(), { secret: undefined })).rejects.toMatchObject({ code: 'missing-secret', message: expect.stringMatching(/^DIGEST_SECRET must be set/) });
    } finally {
      if (saved !== undefined) process.env.DIGEST_SECRET = saved;
    }
  });

  it('is an error with a template of one’s own that does not print the sentence (undisclosed-tracking)', async () => {
    const root = tempProject(
      {
        'templates/plain/layout.mjml.hbs':
          '<mjml><mj-body><mj-section><mj-column><mj-text>{{issue.title}} <a href="https://x.example/">x</a> <a href="\\{{unsubscribe_url}}">u</a></mj-text></mj-column></mj-section></mj-body></mjml>\n',
      },
      `${newsletter}template: plain\n${tracking(true)}`,
    );
    const edition = await renderIssue(parseIssue(issueText(), 'week.md'), await configFor(root), undefined, { secret: SECRET });
    expect(edition.diagnostics).toContainEqual(expect.objectContaining({ code: 'undisclosed-tracking', severity: 'error', file: 'week.md' }));
    const aggregate = await renderIssue(parseIssue(issueText(), 'week.md'), await configFor(tempProject({ 'templates/plain/layout.mjml.hbs': '<mjml><mj-body><mj-section><mj-column><mj-text><a href="\\{{unsubscribe_url}}">u</a></mj-text></mj-column></mj-section></mj-body></mjml>\n' }, `${newsletter}template: plain\n${tracking()}`)), undefined, { secret: SECRET });
    expect(aggregate.diagnostics.map((d) => d.code)).not.toContain('undisclosed-tracking');
  });

  it('warns when the front matter sets utm: and the config lists no domains (utm-no-domains), at its line', async () => {
    const edition = await renderIssue(parseIssue(issueText('utm:\n  campaign: spring\n'), 'week.md'), await configFor(tempProject({}, newsletter)));
    expect(edition.diagnostics).toContainEqual(expect.objectContaining({ code: 'utm-no-domains', severity: 'warning', line: 5 }));
  });
});

describe('the settings', () => {
  const refused = async (config: string) => {
    const error = await loadConfig({ cwd: tempProject({}, config) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    return error as { message: string; file?: string; line?: number; located: string };
  };

  it('are off by default', async () => {
    const config: ResolvedConfig = await configFor(tempProject({}, newsletter));
    expect(config.tracking).toEqual({ clicks: false, perReader: false });
    expect(config.utm).toEqual({ domains: [] });
  });

  it('refuse perReader without clicks, at its line', async () => {
    const error = await refused(`${newsletter}tracking:\n  perReader: true\n`);
    expect(error.located).toBe('digest.config.yaml:5: tracking.perReader: needs clicks: true as well (per-reader records are kept of counted clicks)');
  });

  it('refuse clicks without baseUrl, naming the config file, in one line', async () => {
    const error = await refused('name: X\ntracking:\n  clicks: true\n');
    expect(error.located).toMatch(/^digest\.config\.yaml:3: tracking\.clicks needs baseUrl/);
    expect(error.located).not.toContain('\n');
  });

  it('refuse a UTM value with another placeholder, an unknown key, a bad domain', async () => {
    expect((await refused(`${newsletter}utm:\n  source: "{{subscriber.email}}"\n`)).located).toMatch(/^digest\.config\.yaml:5: utm\.source: may hold \{\{slug\}\}/);
    expect((await refused(`${newsletter}utm:\n  content: x\n`)).located).toMatch(/^digest\.config\.yaml:4: utm: /);
    expect((await refused(`${newsletter}utm:\n  domains: ["https://example.org/"]\n`)).located).toMatch(/^digest\.config\.yaml:5: utm\.domains\.0: must be a host name/);
    expect((await refused(`${newsletter}tracking:\n  clicks: yes\n`)).located).toMatch(/^digest\.config\.yaml:5: tracking\.clicks: /);
  });

  it('refuse a bad utm: in front matter at its line', () => {
    expect(() => parseIssue(issueText('utm:\n  medium: "{{unsubscribe_url}}"\n'), 'week.md')).toThrow(expect.objectContaining({ located: expect.stringMatching(/^week\.md:6: utm\.medium: may hold \{\{slug\}\}/) }));
    expect(() => parseIssue(issueText('utm:\n  domains: [x.org]\n'), 'week.md')).toThrow(expect.objectContaining({ line: 5 }));
  });
});

describe('digest build (the compiled CLI)', () => {
  it('with tracking.clicks and no DIGEST_SECRET: one line, exit 1, nothing written; digest check still runs', async () => {
    const root = tempProject({ 'issues/week.md': issueText('', 'Read [this](https://x.example/).') }, `${newsletter}tracking:\n  clicks: true\n`);
    const build = await runCli(['build'], { cwd: root });
    expect(build.code).toBe(1);
    expect(build.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^digest: DIGEST_SECRET must be set/)]);
    expect(existsSync(join(root, 'build'))).toBe(false);
    const check = await runCli(['check', '--json'], { cwd: root });
    expect(check.code, check.stderr).toBe(0);
    const built = await runCli(['build', '--json'], { cwd: root, env: { DIGEST_SECRET: SECRET } });
    expect(built.code, built.stderr).toBe(0);
    expect(readFileSync(join(root, 'build', 'week-10', 'email.html'), 'utf8')).toContain('https://gazette.example/news/c/c1.');
    expect(readFileSync(join(root, 'build', 'week-10', 'web.html'), 'utf8')).not.toContain('/c/c1.');
  });
});
