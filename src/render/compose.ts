import type { ResolvedConfig } from '../config.js';
import type { IssueMeta } from '../issue/load.js';
import { sides, textDirection, type Direction, type Sides } from '../language.js';
import { labelsFor, type Labels } from './labels.js';
import type { Block, Outline, Part } from './outline.js';
import type { Template } from './template.js';

/**
 * What a template sees. Plain-text values are escaped by `{{…}}`; the `…Html` values were sanitized
 * when the Markdown was rendered and are output with `{{{…}}}`.
 */
export interface TemplateContext {
  newsletter: {
    name: string;
    tagline?: string;
    address?: string;
    /** This edition's language: the issue's own if its front matter sets one, else the config's. */
    language: string;
    logo?: string;
    subscribeUrl?: string;
  };
  brand: ResolvedConfig['brand'];
  labels: Labels;
  /** Clicks recorded per reader (tracking.perReader): the footer says so, to readers whose links carry their token. */
  tracking: { perReader: boolean };
  /** Which way the edition reads, and its sides: partials write `border-{{dir.start}}`, `dir="{{dir.name}}"`. */
  dir: Sides;
  issue: {
    title: string;
    subject: string;
    preheader: string;
    date: string;
    author?: string;
    slug: string;
    webUrl?: string;
    /** A message that is not an issue (the sign-up confirmation): no date, web version or subscribe box. */
    transactional: boolean;
    image?: { src: string; alt: string; caption?: string; credit?: string };
  };
  intro: Part[];
  summary: string[];
  sections: Outline['sections'];
}

/**
 * `assetBase` is where relative image paths point: by default the published `baseUrl`; the preview
 * passes its own server so that images beside the issue show before they are published.
 */
export function templateContext(
  meta: IssueMeta,
  preheader: string,
  outline: Outline,
  config: ResolvedConfig,
  assetBase?: string,
  transactional = false,
  perReader = false,
): TemplateContext {
  const { language, direction } = editionLanguage(meta, config);
  const base = config.baseUrl ? `${config.baseUrl.replace(/\/+$/, '')}/` : undefined;
  const assets = assetBase ?? base;
  const absolute = (src: string) => (assets && isRelative(src) ? new URL(src, assets).href : src);
  const resolveParts = (parts: Part[]): Part[] =>
    parts.map((part) => ({ ...part, blocks: part.blocks.map((block): Block => (block.type === 'image' ? { ...block, src: absolute(block.src) } : block)) }));

  return {
    newsletter: {
      name: config.name,
      tagline: config.tagline,
      address: config.address,
      language,
      logo: config.brand.logo,
      subscribeUrl: config.subscribeUrl ?? config.baseUrl,
    },
    brand: config.brand,
    labels: labelsFor(language, config.labels),
    tracking: { perReader },
    dir: sides(direction),
    issue: {
      title: meta.title,
      subject: meta.subject,
      preheader,
      date: meta.date,
      author: meta.author,
      slug: meta.slug,
      webUrl: base && !transactional ? new URL(`issues/${meta.slug}/`, base).href : undefined,
      transactional,
      image: meta.image ? { ...meta.image, src: absolute(meta.image.src) } : undefined,
    },
    intro: resolveParts(outline.intro),
    summary: outline.summary,
    sections: outline.sections.map((section) => ({ ...section, parts: resolveParts(section.parts) })),
  };
}

/**
 * The language and direction of one edition. An issue that names its own language takes the
 * direction of that language (the config's `direction` was said about the config's language);
 * `direction` in front matter beats both.
 */
export function editionLanguage(meta: Pick<IssueMeta, 'language' | 'direction'>, config: Pick<ResolvedConfig, 'language' | 'direction'>): { language: string; direction: Direction } {
  const language = meta.language ?? config.language;
  const direction = meta.direction ?? (meta.language ? undefined : config.direction) ?? textDirection(language);
  return { language, direction };
}

/** Tree → MJML: the template's layout and partials, rendered once per issue. */
export function compose(template: Template, context: TemplateContext): string {
  return template.render(context);
}

/** A path such as `images/map.png`, as opposed to a URL with a scheme or a merge field. */
export function isRelative(src: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(src) && !src.startsWith('//') && !src.startsWith('{{');
}
