import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import matter from 'gray-matter';
import { UserError } from '../errors.js';
import { parseYaml, validate, type LocatedYaml } from '../yaml.js';
import { frontMatterSchema, knownKeys, type FrontMatter } from './schema.js';
import type { Diagnostic } from './diagnostic.js';

/** The front matter with every default applied: what the rest of the pipeline reads. */
export interface IssueMeta extends FrontMatter {
  slug: string;
  subject: string;
  template?: string;
  audience: string[];
}

/** One issue file, read and checked, its body not yet parsed. */
export interface IssueSource {
  /** The path as the user gave it, for messages. */
  file: string;
  meta: IssueMeta;
  /** The Markdown after the front matter. */
  body: string;
  /** The line of the file on which the body begins. */
  bodyLine: number;
  /** Where each front matter key stands, for diagnostics about its value. */
  lineOf(key: string): number | undefined;
  warnings: Diagnostic[];
}

/** Reads bytes and insists on UTF-8 text: a binary or mis-encoded file is reported, not mangled. */
export async function readText(file: string, what = 'file'): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (error as Error).message;
    throw new UserError(reason, { file, cause: error, code: 'unreadable-file' });
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw new UserError(`is a binary file, not a Markdown ${what}`, { file, line: lineAt(bytes, nul), code: 'unreadable-file' });
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const lossy = bytes.toString('utf8');
    const bad = lossy.indexOf('\uFFFD');
    const line = bad === -1 ? undefined : lossy.slice(0, bad).split('\n').length;
    throw new UserError('is not UTF-8 text (save it as UTF-8)', { file, line, code: 'unreadable-file' });
  }
}

function lineAt(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

export async function loadIssue(file: string): Promise<IssueSource> {
  return parseIssue(await readText(file, 'issue'), file);
}

/** Splits and checks an issue already in memory (the preview re-reads files itself). */
export function parseIssue(source: string, file: string): IssueSource {
  if (source.trim() === '') throw new UserError('is empty: an issue needs front matter with a title and a date', { file, code: 'empty-issue' });
  if (!/^---[ \t]*\r?\n/.test(source)) {
    throw new UserError('must begin with front matter: a --- line, then title: and date:, then another --- line', { file, line: 1, code: 'invalid-front-matter' });
  }
  if (!/\r?\n---[ \t]*(\r?\n|$)/.test(source)) {
    throw new UserError('the front matter is never closed: add a --- line after its last setting', { file, line: 1, code: 'invalid-front-matter' });
  }

  let located: LocatedYaml | undefined;
  const split = matter(source, {
    engines: {
      yaml: (text: string) => {
        located = parseYaml(text, file);
        return located.data as object;
      },
    },
  } as never);
  located ??= { data: {}, lineOf: () => undefined };
  if (typeof located.data !== 'object' || located.data === null || Array.isArray(located.data)) {
    throw new UserError('the front matter must be a list of settings such as title: and date:', { file, line: 2, code: 'invalid-front-matter' });
  }

  const frontMatter = validate(frontMatterSchema, located, file, 1);
  const lineOf = (key: string) => located!.lineOf([key]);
  const warnings: Diagnostic[] = Object.keys(located.data as object)
    .filter((key) => !knownKeys.has(key))
    .map((key) => ({
      code: 'unknown-key',
      severity: 'warning' as const,
      message: `unknown front matter key "${key}" is ignored (known: ${[...knownKeys].join(', ')})`,
      file,
      line: lineOf(key),
    }));

  const body = split.content;
  const bodyLine = source.slice(0, source.length - body.length).split('\n').length;
  const audience = frontMatter.audience === undefined ? [] : [frontMatter.audience].flat();
  const meta: IssueMeta = {
    ...frontMatter,
    subject: frontMatter.subject ?? frontMatter.title,
    slug: frontMatter.slug ?? slugFromFile(file),
    audience,
  };
  return { file, meta, body, bodyLine, lineOf, warnings };
}

/** `issues/2024-03-08 Weekly.md` → `2024-03-08-weekly`: a name safe in paths and URLs. */
export function slugFromFile(file: string): string {
  const slug = basename(file, extname(file))
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'issue';
}
