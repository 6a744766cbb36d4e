import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { UserError } from '../../src/errors.js';
import { loadIssue, parseIssue } from '../../src/issue/load.js';
import { textDirection } from '../../src/language.js';
import { catalogue, catalogueFor, labelsFor, type Labels } from '../../src/render/labels.js';
import { renderIssue, type Edition } from '../../src/render/index.js';
import { configFor, fixtures, tempProject } from '../helpers.js';
import { buildRtlSample } from './rtl-samples.js';

const newsletter = 'name: The Test Gazette\naddress: "1 Press Lane"\nbaseUrl: https://gazette.example/news\n';

/** An issue that prints every label: a byline, a summary, a related card without a kicker, a footer with a web link. */
const everyLabel = (frontMatter = '') => `---
title: A week
date: 2024-03-08
author: Dana Whitlow
${frontMatter}---
Hello.

- First story

## One

Text.

::related[A story]{href="https://example.org/story"}
`;

async function build(config: string, frontMatter = '', options: { transactional?: boolean } = {}): Promise<Edition> {
  const root = tempProject({}, config);
  return renderIssue(parseIssue(everyLabel(frontMatter), 'week.md'), await configFor(root), undefined, options);
}

const htmlTag = (edition: Edition) => /<html [^>]*>/.exec(edition.html)![0];
/** mjml indents its output: tags side by side, for patterns that span several. */
const squash = (html: string) => html.replace(/>\s+</g, '><');

describe('the direction of a language', () => {
  it.each([
    ['ar', 'rtl'],
    ['he', 'rtl'],
    ['fa', 'rtl'],
    ['ur', 'rtl'],
    ['ps', 'rtl'],
    ['sd', 'rtl'],
    ['ug', 'rtl'],
    ['yi', 'rtl'],
    ['dv', 'rtl'], // Node 20's ICU says ltr for Dhivehi: the list must win
    ['ckb', 'rtl'],
    ['ar-EG', 'rtl'],
    ['az-Arab', 'rtl'], // a script subtag decides (ICU says ltr)
    ['ku-Arab', 'rtl'],
    ['yi-Hebr', 'rtl'],
    ['ar-Latn', 'ltr'],
    ['sd-Deva', 'ltr'],
    ['en', 'ltr'],
    ['de-AT', 'ltr'],
    ['uk', 'ltr'],
    ['zz', 'ltr'],
    ['en-US-US', 'ltr'], // well-formed, refused by Intl
  ])('%s is %s', (language, direction) => {
    expect(textDirection(language)).toBe(direction);
  });
});

describe('lang and dir on <html>', () => {
  it.each([
    ['en', 'ltr'],
    ['ar', 'rtl'],
    ['he', 'rtl'],
    ['de-AT', 'ltr'],
  ])('a newsletter in %s reads %s', async (language, direction) => {
    const edition = await build(`${newsletter}language: ${language}\n`);
    expect(htmlTag(edition)).toMatch(new RegExp(`^<html lang="${language}" dir="${direction}" `));
    expect(edition.html).toMatch(new RegExp(`role="article" lang="${language}" dir="${direction}"`));
  });

  it('takes the issue’s language over the config’s, both ways', async () => {
    expect(htmlTag(await build(`${newsletter}language: en\n`, 'language: ar\n'))).toMatch(/^<html lang="ar" dir="rtl" /);
    expect(htmlTag(await build(`${newsletter}language: he\n`, 'language: en-GB\n'))).toMatch(/^<html lang="en-GB" dir="ltr" /);
  });

  it('lets direction override the language, the issue’s over the config’s', async () => {
    expect(htmlTag(await build(`${newsletter}language: ar\ndirection: ltr\n`))).toMatch(/^<html lang="ar" dir="ltr" /);
    expect(htmlTag(await build(`${newsletter}language: en\n`, 'direction: rtl\n'))).toMatch(/^<html lang="en" dir="rtl" /);
    // The config's direction was said of the config's language, not of an issue in another one.
    expect(htmlTag(await build(`${newsletter}language: ar\ndirection: ltr\n`, 'language: he\n'))).toMatch(/^<html lang="he" dir="rtl" /);
  });

  it('writes every section and column rtl: mjml would write direction:ltr on each otherwise', async () => {
    const rtl = await build(`${newsletter}language: ar\n`);
    expect(rtl.html).not.toContain('direction:ltr');
    expect(rtl.html.match(/direction:rtl/g)!.length).toBeGreaterThan(10);
    const ltr = await build(`${newsletter}language: en\n`);
    expect(ltr.html).not.toContain('direction:rtl');
  });
});

describe('the label catalogue', () => {
  const expected: Record<string, Partial<Labels>> = {
    en: { summary: 'In this issue', unsubscribe: 'Unsubscribe' },
    uk: { summary: 'У цьому випуску', unsubscribe: 'Відписатися' },
    de: { summary: 'In dieser Ausgabe', unsubscribe: 'Abmelden' },
    fr: { summary: 'Dans ce numéro', unsubscribe: 'Se désabonner' },
    es: { summary: 'En este número', unsubscribe: 'Cancelar suscripción' },
    ar: { summary: 'في هذا العدد', unsubscribe: 'إلغاء الاشتراك' },
    he: { summary: 'בגיליון הזה', unsubscribe: 'להסרה מרשימת התפוצה' },
  };

  it('has every word in each of the seven languages, none empty, none left in English', () => {
    expect(Object.keys(catalogue).sort()).toEqual(Object.keys(expected).sort());
    const keys = Object.keys(catalogue.en!).sort();
    for (const [language, words] of Object.entries(catalogue)) {
      expect(Object.keys(words).sort()).toEqual(keys);
      expect(words).toMatchObject(expected[language]!);
      for (const word of Object.values(words)) expect(word.trim()).not.toBe('');
      if (language !== 'en') for (const key of keys) expect(words[key as keyof Labels]).not.toBe(catalogue.en![key as keyof Labels]);
    }
  });

  it.each(Object.keys(expected))('prints the %s words in an issue and in the sign-up confirmation', async (language) => {
    const config = `${newsletter}language: ${language}\nsubscribeUrl: https://gazette.example/join\n`;
    const issue = await build(config);
    const words = catalogue[language]!;
    for (const key of ['summary', 'related', 'subscribeTitle', 'subscribeText', 'subscribeButton', 'viewInBrowser', 'unsubscribe'] as const) {
      expect(issue.html, key).toContain(words[key]);
    }
    expect(issue.html).toContain(`${words.by} Dana Whitlow`);
    expect(issue.html).toContain(`${words.receiving} The Test Gazette.`);
    const confirmation = await build(config, '', { transactional: true });
    expect(confirmation.html).toContain(`${words.requested} The Test Gazette.`);
    if (language !== 'en') expect(issue.html).not.toContain(catalogue.en!.unsubscribe);
  });

  it('picks the catalogue by language: de-AT is German, an unknown language English, iw Hebrew', () => {
    expect(catalogueFor('de-AT')).toBe(catalogue.de);
    expect(catalogueFor('DE')).toBe(catalogue.de);
    expect(catalogueFor('pt-BR')).toBe(catalogue.en);
    expect(catalogueFor('iw')).toBe(catalogue.he);
    expect(catalogueFor('en-US-US')).toBe(catalogue.en);
  });

  it('uses the issue’s language for the words, not the config’s', async () => {
    const edition = await build(`${newsletter}language: en\n`, 'language: de-AT\n');
    expect(edition.html).toContain('In dieser Ausgabe');
    expect(edition.html).not.toContain('In this issue');
  });

  it('lets the config replace one word and keeps the catalogue’s for the rest', async () => {
    const edition = await build(`${newsletter}language: de\nlabels:\n  summary: Heute im Blatt\n`);
    expect(edition.html).toContain('Heute im Blatt');
    expect(edition.html).not.toContain('In dieser Ausgabe');
    expect(edition.html).toContain('Im Browser ansehen');
    expect(labelsFor('ar', { unsubscribe: 'Stop' })).toEqual({ ...catalogue.ar, unsubscribe: 'Stop' });
  });

  it('refuses an empty or unknown label in the config, at its line', async () => {
    const empty = await loadConfig({ cwd: tempProject({}, `${newsletter}labels:\n  summary: ""\n`) }).catch((error) => error);
    expect(empty).toBeInstanceOf(UserError);
    expect(empty.message).toContain('labels.summary: must not be empty');
    expect(empty.line).toBe(5);
    const unknown = await loadConfig({ cwd: tempProject({}, `${newsletter}labels:\n  summry: x\n`) }).catch((error) => error);
    expect(unknown).toBeInstanceOf(UserError);
  });
});

describe('dates in the issue’s language', () => {
  const kicker = (edition: Edition) => /<div[^>]*>([^<]*2024[^<]*)<\/div>/.exec(edition.html.slice(edition.html.indexOf('kicker')))?.[1]?.trim();
  const intl = (language: string) => new Intl.DateTimeFormat(language, { dateStyle: 'full', timeZone: 'UTC' }).format(new Date('2024-03-08T12:00:00Z'));

  it('formats the date with Intl for ar and he', async () => {
    const arabic = kicker(await build(`${newsletter}language: en\n`, 'language: ar\n'));
    expect(arabic).toBe(intl('ar'));
    expect(arabic).toContain('مارس');
    expect(arabic).toContain('الجمعة');
    const hebrew = kicker(await build(`${newsletter}language: he\n`));
    expect(hebrew).toBe(intl('he'));
    expect(hebrew).toContain('במרץ');
    expect(hebrew).toContain('יום שישי');
    expect(kicker(await build(`${newsletter}language: en\n`))).toBe('Friday, March 8, 2024');
  });

  it('falls back to English for a well-formed tag Intl refuses, rather than failing the build', async () => {
    expect(kicker(await build(`${newsletter}language: en-US-US\n`))).toBe('Friday, March 8, 2024');
  });
});

describe('front matter language and direction', () => {
  const failure = (extra: string) => {
    try {
      parseIssue(`---\ntitle: T\ndate: 2024-03-08\n${extra}---\nx\n`, 'issues/x.md');
    } catch (error) {
      return error as UserError;
    }
    throw new Error('expected the issue to be rejected');
  };

  it('accepts a language tag and a direction', () => {
    const issue = parseIssue('---\ntitle: T\ndate: 2024-03-08\nlanguage: ar-EG\ndirection: rtl\n---\nx\n', 'x.md');
    expect(issue.meta).toMatchObject({ language: 'ar-EG', direction: 'rtl' });
    expect(issue.warnings).toEqual([]);
  });

  it('refuses a language that is not a tag, and a direction other than ltr or rtl, at their lines', () => {
    const language = failure('language: Arabic!\n');
    expect(language.message).toContain('language: must be a language tag');
    expect(language.line).toBe(4);
    const direction = failure('direction: sideways\n');
    expect(direction.message).toContain('direction: must be ltr or rtl');
    expect(direction.line).toBe(4);
  });
});

describe('mixed-direction text: dir="auto" on the issue’s blocks', () => {
  let html: string;
  beforeAll(async () => {
    const source = `---
title: Mixed
date: 2024-03-08
---
An English paragraph.

- A summary item

## مرحبا

> «نص عربي» in a quote

### A smaller heading

1. one
2. two

<p dir="rtl">Already said.</p>

::related[عنوان]{href="https://example.org/a" summary="ملخص"}
`;
    html = (await renderIssue(parseIssue(source, 'mixed.md'), await configFor(tempProject({}, newsletter)))).html;
  });

  it('marks paragraphs, list items, headings and blockquotes', () => {
    expect(html).toMatch(/<p dir="auto"[^>]*>An English paragraph\.<\/p>/);
    expect(html).toMatch(/<li dir="auto"[^>]*>A summary item<\/li>/);
    expect(html).toMatch(/<h2 id="[^"]*" dir="auto"[^>]*>مرحبا<\/h2>/);
    expect(html).toMatch(/<blockquote dir="auto"[^>]*>\s*<p dir="auto"[^>]*>«نص عربي» in a quote<\/p>/);
    expect(html).toMatch(/<h3 dir="auto"[^>]*>A smaller heading<\/h3>/);
    expect(html).toMatch(/<li dir="auto"[^>]*>one<\/li>/);
    expect(html).toMatch(/<h1 dir="auto"/);
  });

  it('keeps a direction the issue gave itself in raw HTML', () => {
    expect(html).toMatch(/<p dir="rtl"[^>]*>Already said\.<\/p>/);
  });

  it('marks the related card’s title and summary', () => {
    expect(html).toMatch(/<a href="https:\/\/example.org\/a" dir="auto"[^>]*>عنوان&nbsp;/);
    expect(html).toMatch(/<div dir="auto"[^>]*>ملخص<\/div>/);
  });
});

describe('an ltr issue keeps its layout', () => {
  let html: string;
  beforeAll(async () => {
    const root = tempProject({}, `${newsletter}brand:\n  logo: https://gazette.example/logo.png\n`);
    html = (await renderIssue(await loadIssue(join(fixtures, 'issues', 'complete.md')), await configFor(root))).html;
    html += (await renderIssue(parseIssue('---\ntitle: Q\ndate: 2024-03-08\n---\n> A quote\n', 'q.md'), await configFor(root))).html;
  });

  it('with every side on the left, as before', () => {
    expect(html).toMatch(/<html lang="en" dir="ltr" /);
    expect(html).toContain('border-left:4px solid #b45309;');
    expect(html).toContain('<ul style="margin:0;padding-left:20px;">');
    expect(html).toContain('padding: 2px 0 2px 16px; border-left: 3px solid #d1d5db;');
    expect(html).toMatch(/<td style="border-bottom: 1px solid #e5e7eb; padding: 6px 8px; text-align: left; vertical-align: top;"/);
    expect(squash(html)).toMatch(/<td align="left"[^>]*><table[^>]*><tbody><tr><td align="center" bgcolor="#1d4ed8" role="presentation"/);
    expect(squash(html)).toMatch(/<td align="left" style="font-size:0px;padding:0 0 8px;word-break:break-word;"><table[^>]*><tbody><tr><td style="width:200px;"><img alt="The Test Gazette"/);
    expect(html).toContain('&nbsp;&rarr;</a>');
    expect(html).toContain('You are receiving this email because you subscribed to The Test Gazette.');
    expect(html).not.toMatch(/direction:rtl|text-align:right|border-right|padding-right/);
  });
});

describe('the Arabic and Hebrew samples', () => {
  const samples: Record<string, Edition> = {};
  beforeAll(async () => {
    samples.ar = await buildRtlSample('ar');
    samples.he = await buildRtlSample('he');
  });

  it.each(['ar', 'he'])('%s builds clean, mirrored to the right', (language) => {
    const { html, diagnostics } = samples[language]!;
    expect(diagnostics).toEqual([]);
    expect(html).toMatch(new RegExp(`^<!doctype html>\\s*<html lang="${language}" dir="rtl" `, 'i'));
    expect(html).toContain('border-right:4px solid #b45309;');
    expect(html).toContain('<ul style="margin:0;padding-right:20px;">');
    expect(html).toContain('padding: 2px 16px 2px 0; border-right: 3px solid #d1d5db;');
    expect(html).toContain('&nbsp;&larr;</a>');
    expect(squash(html)).toMatch(/<td align="right"[^>]*><table[^>]*><tbody><tr><td align="center" bgcolor="#1d4ed8" role="presentation"/);
    expect(html).not.toMatch(/border-left|padding-left|&rarr;|direction:ltr/);
  });

  it('turns the Arabic table’s cells to the right', () => {
    expect(samples.ar!.html).toMatch(/<th style="[^"]*text-align: right;/);
    expect(samples.ar!.html).toMatch(/<td style="[^"]*text-align: right;[^"]*"[^>]*>مدرسة الزيتون الابتدائية</);
    expect(samples.ar!.html).not.toMatch(/<t[hd] [^>]*text-align: left/);
  });

  it('gives each heading an anchor in its own letters, not "section" for all', () => {
    const ids = [...samples.he!.html.matchAll(/<h2 id="([^"]*)"/g)].map((match) => match[1]);
    expect(ids).toEqual(['שביל-האופניים-נפתח', 'הספרייה-פתוחה-עד-מאוחר', 'שוק-האיכרים-חוזר-לכיכר', 'מה-מחכה-לנו-השבוע']);
    expect(new Set([...samples.ar!.html.matchAll(/<h2 id="([^"]*)"/g)].map((match) => match[1])).size).toBe(4);
  });

  it('keeps the plain text in logical order, with no bidi controls added', () => {
    const flat = (text: string) => text.replace(/\s+/g, ' ');
    const arabic = flat(samples.ar!.text);
    expect(arabic).toContain('ويمكن طلب الزيت مسبقًا عبر WhatsApp من لجنة السوق.');
    expect(arabic).toContain('> "The water table is recovering faster than we expected, and the town did > most of the work."');
    expect(arabic).toContain('في هذا العدد * افتتاح محطة تحلية');
    expect(flat(samples.he!.text)).toContain('את המסלול המלא אפשר למצוא ב־Google Maps ובאתר המועצה.');
    expect(samples.ar!.text + samples.he!.text).not.toMatch(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/);
  });
});
