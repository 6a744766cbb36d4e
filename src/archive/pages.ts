import type { ResolvedConfig } from '../config.js';
import type { BuiltEdition } from './editions.js';
import { escapeHtml as h, escapeXml as x } from '../escape.js';
import { textDirection } from '../language.js';
import { labelsFor } from '../render/labels.js';

/** The site's public root, with a trailing slash, or undefined without baseUrl (links stay relative). */
export function siteRoot(config: ResolvedConfig): string | undefined {
  return config.baseUrl ? `${config.baseUrl.replace(/\/+$/, '')}/` : undefined;
}

export function issuePath(slug: string): string {
  return `issues/${slug}/`;
}

export function longDate(date: string, language: string): string {
  try {
    return new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(`${date}T00:00:00Z`));
  } catch {
    return date;
  }
}

/**
 * The archive's front page: every public issue, newest first, with its title, date and summary.
 * Links are relative, so the site works from any folder of any static host.
 */
export function indexPage(config: ResolvedConfig, editions: BuiltEdition[]): string {
  const { brand } = config;
  const items = editions
    .map(
      (edition) => `    <li>
      <h2><a href="${h(issuePath(edition.slug))}">${h(edition.title)}</a></h2>
      <p class="meta"><time datetime="${h(edition.date)}">${h(longDate(edition.date, config.language))}</time>${edition.author ? ` · ${h(edition.author)}` : ''}</p>
      ${edition.preheader ? `<p class="summary">${h(edition.preheader)}</p>` : ''}
    </li>`,
    )
    .join('\n');
  const subscribe = config.subscribeUrl ? `\n    <p><a class="subscribe" href="${h(config.subscribeUrl)}">${h(labelsFor(config.language, config.labels).subscribeButton)}</a></p>` : '';
  return `<!doctype html>
<html lang="${h(config.language)}" dir="${config.direction ?? textDirection(config.language)}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${h(config.name)}</title>
  ${config.tagline ? `<meta name="description" content="${h(config.tagline)}">` : ''}
  <link rel="alternate" type="application/atom+xml" title="${h(config.name)}" href="feed.xml">
  <style>
    body { margin: 0; background: ${brand.background}; color: ${brand.text}; font-family: ${brand.font}; line-height: 1.5; }
    main { max-width: 640px; margin: 0 auto; padding: 32px 20px; }
    header h1 { font-family: ${brand.headingFont}; color: ${brand.color}; margin: 0 0 4px; }
    a { color: ${brand.color}; }
    ol { list-style: none; padding: 0; }
    li { background: #fff; border-radius: 6px; padding: 16px 20px; margin: 0 0 16px; }
    li h2 { font-family: ${brand.headingFont}; font-size: 1.25rem; margin: 0 0 4px; }
    .meta { color: #6b7280; font-size: 0.875rem; margin: 0; }
    .summary { margin: 8px 0 0; }
    footer { font-size: 0.875rem; color: #6b7280; }
  </style>
</head>
<body>
  <main>
  <header>
    <h1>${h(config.name)}</h1>
    ${config.tagline ? `<p>${h(config.tagline)}</p>` : ''}${subscribe}
  </header>
  ${editions.length ? `<ol>\n${items}\n  </ol>` : '<p>No issues yet.</p>'}
  <footer><p><a href="feed.xml">Atom feed</a></p></footer>
  </main>
</body>
</html>
`;
}

/**
 * An Atom 1.0 feed (RFC 4287) of the public issues, newest first. Its `updated` is the newest
 * issue's time, not the time of writing, so an unchanged archive rewrites nothing.
 */
export function atomFeed(config: ResolvedConfig, editions: BuiltEdition[]): string {
  const root = siteRoot(config);
  const link = (path: string) => (root ? new URL(path, root).href : path);
  const id = (slug: string) => (root ? link(issuePath(slug)) : `urn:digest:issue:${encodeURIComponent(slug)}`);
  const updated = (editions[0]?.publishedAt ?? new Date(0)).toISOString();
  const entries = editions
    .map((edition) => {
      const when = edition.publishedAt.toISOString();
      return `  <entry>
    <title>${x(edition.title)}</title>
    <id>${x(id(edition.slug))}</id>
    <link rel="alternate" type="text/html" href="${x(link(issuePath(edition.slug)))}"/>
    <published>${when}</published>
    <updated>${when}</updated>
    <author><name>${x(edition.author ?? config.name)}</name></author>
    ${edition.preheader ? `<summary>${x(edition.preheader)}</summary>` : ''}
  </entry>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${x(config.language)}">
  <title>${x(config.name)}</title>
  ${config.tagline ? `<subtitle>${x(config.tagline)}</subtitle>` : ''}
  <id>${x(root ?? 'urn:digest:archive')}</id>
  ${root ? `<link rel="self" type="application/atom+xml" href="${x(link('feed.xml'))}"/>\n  <link rel="alternate" type="text/html" href="${x(root)}"/>` : ''}
  <updated>${updated}</updated>
  <author><name>${x(config.name)}</name></author>
  <generator>digest</generator>
${entries}
</feed>
`;
}
