import type { Root } from 'mdast';
import { visit } from 'unist-util-visit';
import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { Diagnostic } from '../issue/diagnostic.js';
import type { IssueMeta, IssueSource } from '../issue/load.js';
import { parseBody } from '../issue/markdown.js';
import { compileMjml, compilesInWorker } from './compile.js';
import { compose, isRelative, templateContext } from './compose.js';
import { lint } from './lint.js';
import { checkMergeFields, compileMerge, unescapeMergeFields } from './merge.js';
import { outline } from './outline.js';
import { loadTemplate, type Template } from './template.js';
import { htmlToText, warmTextConverter } from './text.js';
import { addUtm, linkSteps, trackLinks } from './track-links.js';
import { clickKey } from '../tracking/token.js';

/** An issue built for sending: the same for every reader until the merge fields are filled. */
export interface Edition {
  meta: IssueMeta;
  subject: string;
  preheader: string;
  /** The MJML the template produced, kept for debugging a template. */
  mjml: string;
  /** Email HTML with merge fields (`{{unsubscribe_url}}`…) still in place; links tracked when the config says. */
  html: string;
  /**
   * The same before click tracking (UTM parameters in): where each link really goes. The web
   * version is made from it, and the link check reads it, since fetching a tracked link counts a click.
   */
  untracked: string;
  /** Whether the links end in the reader's own token ({{click_reader}}, tracking.perReader), to seal per reader. */
  readerLinks: boolean;
  /** The plain-text part, merge fields likewise in place (derived from the HTML on first use). */
  readonly text: string;
  /** The HTML for the web: merged for an anonymous reader, no personal placeholders left (likewise). */
  readonly web: string;
  diagnostics: Diagnostic[];
  /** Relative image paths the issue uses (`images/map.png`): files to publish beside it. */
  assets: string[];
}

export interface RenderOptions {
  /** Where relative images point instead of the config's baseUrl (the preview's own server). */
  assetBase?: string;
  /** Not an issue but a message to one person (the sign-up confirmation): see TemplateContext. Never tracked. */
  transactional?: boolean;
  /** false: links as written even with tracking.clicks (the preview, where the editor's clicks must not count). */
  track?: boolean;
  /** Seals the tracked links; default DIGEST_SECRET. */
  secret?: string;
}

/**
 * The render pipeline, in order. Each step takes what the one before gave:
 *   1. body → Markdown tree          issue/markdown.ts  (directives checked)
 *   2. merge fields checked           render/merge.ts
 *   3. tree → outline of blocks       render/outline.ts  (summary, sections, callouts; HTML sanitized)
 *   4. outline → MJML                 render/compose.ts  (the template's Handlebars partials)
 *   5. MJML → HTML                    render/compile.ts  (mjml, once per issue)
 *   6. links: UTM, then tracking      render/track-links.ts (the web version takes them untracked)
 *   7. lint                           render/lint.ts
 *   8. HTML → plain text              render/text.ts     (on first use)
 *   9. HTML → web version             render/merge.ts    (an anonymous reader; on first use)
 */
export async function renderIssue(
  issue: IssueSource,
  config: ResolvedConfig,
  templates = new TemplateCache(),
  options: RenderOptions = {},
): Promise<Edition> {
  const tree = parseBody(issue.body, issue.bodyLine, issue.file);

  const fieldProblems = [
    ...checkMergeFields(issue.body, issue.file, issue.bodyLine),
    ...(['title', 'subject', 'preheader'] as const).flatMap((key) =>
      issue.meta[key] && issue.lineOf(key) ? checkMergeFields(String(issue.meta[key]), issue.file, issue.lineOf(key)!) : [],
    ),
  ];

  const malformed = fieldProblems.find((problem) => problem.code === 'merge-syntax');
  if (malformed) throw new UserError(malformed.message, { file: malformed.file, line: malformed.line, code: malformed.code });

  // Before anything is compiled: without the secret no link can be sealed, and that is one clear line.
  const tracking = config.tracking.clicks && options.track !== false && !options.transactional;
  const key = tracking ? clickKey(options.secret ?? process.env.DIGEST_SECRET) : undefined;

  const shape = outline(tree);
  const preheader = issue.meta.preheader ?? truncate(shape.openingText, 140);
  const template = await templates.get(issue.meta.template ?? config.template, config.templatesDir);
  const mjml = compose(template, templateContext(issue.meta, preheader, shape, config, options.assetBase, options.transactional, tracking && config.tracking.perReader));
  const compiling = compileMjml(mjml, template.name, issue.file);
  if (compilesInWorker()) warmTextConverter(mjml);
  const compiled = await compiling;
  const steps = linkSteps(issue.meta, config, key);
  const untracked = addUtm(unescapeMergeFields(compiled.html), steps);
  const html = trackLinks(untracked, steps);
  const readerLinks = Boolean(steps.track?.perReader);
  const diagnostics = [
    ...issue.warnings,
    ...fieldProblems,
    ...compiled.diagnostics,
    ...lint({ issue, tree, outline: shape, html, config, transactional: options.transactional, readerLinks }),
  ];
  // The text part and the web version are derived on first use: a preview rebuild that shows
  // neither (most of them) does not pay for them.
  let text: string | undefined;
  let web: string | undefined;
  return {
    meta: issue.meta,
    subject: issue.meta.subject,
    preheader,
    mjml,
    html,
    untracked,
    readerLinks,
    get text() {
      return (text ??= htmlToText(html));
    },
    get web() {
      return (web ??= compileMerge(untracked)(anonymousReader(config)));
    },
    diagnostics,
    assets: assetsOf(issue, tree),
  };
}
/** Templates are read and compiled once per process (the preview clears this when one changes). */
export class TemplateCache {
  private readonly loaded = new Map<string, Promise<Template>>();

  get(name: string, folder: string): Promise<Template> {
    const key = `${folder}\0${name}`;
    let template = this.loaded.get(key);
    if (!template) {
      template = loadTemplate(name, folder);
      template.catch(() => this.loaded.delete(key));
      this.loaded.set(key, template);
    }
    return template;
  }

  clear(): void {
    this.loaded.clear();
  }
}

/** The web version is read by anyone: no name, and the unsubscribe link leads to the general page. */
function anonymousReader(config: ResolvedConfig) {
  const base = config.baseUrl?.replace(/\/+$/, '');
  return { subscriber: {}, unsubscribe_url: base ? `${base}/unsubscribe` : '#' };
}

function assetsOf(issue: IssueSource, tree: Root): string[] {
  const found = new Set<string>();
  if (issue.meta.image && isRelative(issue.meta.image.src)) found.add(issue.meta.image.src);
  visit(tree, 'image', (image) => {
    if (isRelative(image.url)) found.add(image.url);
  });
  return [...found];
}

function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const cut = text.slice(0, limit);
  return `${cut.slice(0, cut.lastIndexOf(' ') > 0 ? cut.lastIndexOf(' ') : limit)}…`;
}
