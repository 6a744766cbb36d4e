import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { UserError } from '../errors.js';

/** The templates that ship with digest; a project's own folders layer on top of them. */
export const builtinTemplates = fileURLToPath(new URL('../../templates', import.meta.url));

const LAYOUT = 'layout.mjml.hbs';

export interface Template {
  name: string;
  /** Every file that went into it, for the preview's watcher. */
  files: string[];
  /** Renders the layout with its partials to an MJML document. */
  render(context: object): string;
}

/**
 * Finds a template by name and layers it: the built-in default first, then the project's folder of
 * the same name (or of the named template), so a project may override one partial and keep the rest.
 */
export async function loadTemplate(name: string, projectTemplates: string): Promise<Template> {
  const layers = [join(builtinTemplates, 'default')];
  const own = join(projectTemplates, name);
  const builtin = join(builtinTemplates, name);
  if (existsSync(own)) layers.push(own);
  else if (name !== 'default' && existsSync(builtin)) layers.push(builtin);
  else if (name !== 'default') {
    throw new UserError(`unknown template "${name}": no folder ${relative(process.cwd(), own) || own}`);
  }

  const sources = new Map<string, { file: string; text: string }>();
  for (const layer of [...new Set(layers)]) {
    const layout = join(layer, LAYOUT);
    if (existsSync(layout)) sources.set('layout', { file: layout, text: await readFile(layout, 'utf8') });
    const partials = join(layer, 'partials');
    if (!existsSync(partials)) continue;
    for (const entry of (await readdir(partials)).sort()) {
      if (!entry.endsWith('.hbs')) continue;
      const file = join(partials, entry);
      sources.set(`partial:${basename(entry, '.mjml.hbs').replace(/\.hbs$/, '')}`, { file, text: await readFile(file, 'utf8') });
    }
  }
  return compileTemplate(name, sources);
}

function compileTemplate(name: string, sources: Map<string, { file: string; text: string }>): Template {
  const handlebars = Handlebars.create();
  registerHelpers(handlebars);
  const layout = sources.get('layout');
  if (!layout) throw new UserError(`template "${name}" has no ${LAYOUT}`);

  // Parse every file up front: a syntax error is reported against the file it is in.
  for (const { file, text } of sources.values()) {
    try {
      handlebars.parse(text);
    } catch (error) {
      const line = /line (\d+)/.exec((error as Error).message)?.[1];
      const reason = (error as Error).message.split('\n').at(-1) ?? 'syntax error';
      throw new UserError(`template syntax error: ${reason}`, { file: shown(file), line: line ? Number(line) : undefined });
    }
  }
  for (const [key, { text }] of sources) {
    if (key.startsWith('partial:')) handlebars.registerPartial(key.slice('partial:'.length), text);
  }
  const render = handlebars.compile(layout.text, { strict: false, noEscape: false });
  return {
    name,
    files: [...sources.values()].map((source) => source.file),
    render(context) {
      try {
        return render(context);
      } catch (error) {
        // A missing partial or a helper misused: the designer's mistake, named as such.
        throw new UserError(`template "${name}": ${(error as Error).message}`);
      }
    },
  };
}

function shown(file: string): string {
  const path = relative(process.cwd(), file);
  return path.startsWith('..') ? file : path;
}

function registerHelpers(handlebars: typeof Handlebars) {
  /**
   * `{{date issue.date newsletter.language}}`: "Friday, 8 March 2024", "الجمعة، 8 مارس 2024",
   * "יום שישי, 8 במרץ 2024": Intl's long date in the edition's language, its digits as Intl gives them.
   */
  handlebars.registerHelper('date', (value: string, language: unknown) => {
    const when = new Date(`${value}T12:00:00Z`);
    if (Number.isNaN(when.getTime())) return value;
    const locale = typeof language === 'string' ? language : 'en';
    try {
      return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeZone: 'UTC' }).format(when);
    } catch {
      // A tag of the right shape that Intl still refuses (en-US-US): English rather than no issue.
      return new Intl.DateTimeFormat('en', { dateStyle: 'full', timeZone: 'UTC' }).format(when);
    }
  });
  handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  /**
   * `padding: {{mirror "2px 0 2px 16px"}}`: a CSS box shorthand written for ltr (top right bottom
   * left), its right and left swapped when the edition reads rtl. The shorthand stays one
   * declaration, as clients without logical properties need, and ltr output is what was written.
   */
  handlebars.registerHelper('mirror', function (this: unknown, value: unknown, options: Handlebars.HelperOptions) {
    const box = String(value ?? '');
    const rtl = (options.data?.root as { dir?: { rtl?: boolean } } | undefined)?.dir?.rtl === true;
    const parts = box.trim().split(/\s+/);
    if (!rtl || parts.length < 2) return box;
    const [top, right, bottom = top, left = right] = parts as [string, string, string?, string?];
    return `${top} ${left} ${bottom} ${right}`;
  });
  /** A multi-line setting (the postal address) with its line breaks kept, each line escaped. */
  handlebars.registerHelper('lines', (value: unknown) =>
    new handlebars.SafeString(
      String(value ?? '')
        .split(/\r?\n/)
        .map((line) => handlebars.escapeExpression(line.trim()))
        .filter(Boolean)
        .join('<br>'),
    ),
  );
  /**
   * Invisible characters after the preheader, so that inbox previews do not fill up with the first
   * words of the body ("View in browser…") once the preheader runs out.
   */
  handlebars.registerHelper('preheaderFiller', () => new handlebars.SafeString('&#847;&zwnj;&nbsp;'.repeat(110)));
}
