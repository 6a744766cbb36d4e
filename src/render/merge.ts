import Handlebars from 'handlebars';
import type { Diagnostic } from '../issue/diagnostic.js';

/**
 * Merge fields: the parts of a built issue filled per reader at sending time, written as Handlebars
 * (`{{subscriber.first_name}}`, `{{default subscriber.first_name "there"}}`, `{{unsubscribe_url}}`).
 * Everything else is settled when the issue is built, so sending costs one cheap merge per reader.
 */
export interface Reader {
  subscriber: {
    email?: string;
    name?: string;
    first_name?: string;
    attributes?: Record<string, unknown>;
  };
  unsubscribe_url: string;
  /**
   * The reader's own click token, which tracked links end with when clicks are kept per reader
   * (src/render/track-links.ts). Not a field for issues to use, so not among `fields`; left out
   * (the web version, the preview), the links count the click for no one.
   */
  click_reader?: string;
}

const fields = new Set(['subscriber.email', 'subscriber.name', 'subscriber.first_name', 'unsubscribe_url']);
const free = ['subscriber.attributes.'];
const helpers = { default: true } as const;
const blockHelpers = new Set(['if', 'unless']);

export function isKnownField(path: string): boolean {
  return fields.has(path) || free.some((prefix) => path.startsWith(prefix) && path.length > prefix.length);
}

/** One Handlebars environment for merging: only our helpers, and nothing from the prototype chain. */
const merging = Handlebars.create();
merging.registerHelper('default', (value: unknown, fallback: unknown) =>
  value === undefined || value === null || (typeof value === 'string' && value.trim() === '') ? fallback : value,
);

export type Merge = (reader: Reader) => string;

const entities: Record<string, string> = { '&quot;': '"', '&#x27;': "'", '&#39;': "'", '&#x3D;': '=', '&#x60;': '`', '&amp;': '&' };

/**
 * Merge fields pass through two HTML escapers on their way (Handlebars when the template is filled,
 * then MJML's serializer), which turn `"there"` into `&quot;there&quot;`. Inside `{{…}}` the field is
 * code for the sending pass, not text: put its characters back.
 */
export function unescapeMergeFields(html: string): string {
  return html.replace(/\{\{[^{}]*\}\}/g, (field) => field.replace(/&quot;|&#x27;|&#39;|&#x3D;|&#x60;|&amp;/g, (entity) => entities[entity]!));
}

/**
 * Compiles a built part once; the result fills it for each reader. HTML escapes what it fills in;
 * the plain-text part and the subject must not (`O'Brien`, not `O&#x27;Brien`).
 */
export function compileMerge(template: string, format: 'html' | 'text' = 'html'): Merge {
  const render = merging.compile(template, { knownHelpers: helpers, knownHelpersOnly: true, strict: false, noEscape: format === 'text' });
  return (reader) => render(reader);
}

/** How a spliced part turns text into the bytes it sends: the shared runs once, each field per reader. */
export interface SpliceEncoding {
  shared: (text: string) => Buffer;
  field: (text: string) => Buffer;
}

const utf8: SpliceEncoding = { shared: (text) => Buffer.from(text, 'utf8'), field: (text) => Buffer.from(text, 'utf8') };

/**
 * A built part split into what every reader shares, held as encoded bytes already, and the few
 * merge fields, each compiled on its own: per reader only the fields run and are encoded, and the
 * bytes are joined. This is the splice that makes a send cost one encode of the issue, not one per
 * reader. The encoding must be one whose pieces can simply be joined (UTF-8, or quoted-printable
 * whose pieces each end a line).
 */
export function compileSplice(template: string, format: 'html' | 'text' = 'html', encoding: SpliceEncoding = utf8): (reader: Reader) => Buffer {
  const pieces = compileSplicePieces(template, format, encoding);
  return (reader) => Buffer.concat(pieces(reader));
}

/** compileSplice's pieces before they are joined: the shared ones are the same Buffers for every reader. */
export function compileSplicePieces(template: string, format: 'html' | 'text' = 'html', encoding: SpliceEncoding = utf8): (reader: Reader) => Buffer[] {
  const starts = [0];
  for (let i = template.indexOf('\n'); i !== -1; i = template.indexOf('\n', i + 1)) starts.push(i + 1);
  const offset = (position: { line: number; column: number }) => starts[position.line - 1]! + position.column;
  const parts: (Buffer | Merge)[] = [];
  let shared = '';
  for (const statement of Handlebars.parse(template).body) {
    if (statement.type === 'ContentStatement') {
      shared += (statement as hbs.AST.ContentStatement).value;
      continue;
    }
    if (statement.type === 'CommentStatement') continue;
    if (shared) parts.push(encoding.shared(shared));
    shared = '';
    parts.push(compileMerge(template.slice(offset(statement.loc.start), offset(statement.loc.end)), format));
  }
  if (shared) parts.push(encoding.shared(shared));
  return (reader) => parts.map((part) => (Buffer.isBuffer(part) ? part : encoding.field(part(reader))));
}

/**
 * Checks the merge fields in a piece of the issue (the body, a front matter value) before anything is
 * built: a typo such as `{{subscriber.nmae}}` would otherwise send blank to every reader.
 */
export function checkMergeFields(text: string, file: string, firstLine: number): Diagnostic[] {
  if (!text.includes('{{')) return [];
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(text);
  } catch (error) {
    const line = Number(/line (\d+)/.exec((error as Error).message)?.[1] ?? 1);
    return [
      {
        code: 'merge-syntax',
        severity: 'error',
        message: `a merge field is malformed (write {{subscriber.first_name}}, or \\{{ for literal braces)`,
        file,
        line: line + firstLine - 1,
      },
    ];
  }
  const found: Diagnostic[] = [];
  const unknown = (message: string, loc?: hbs.AST.SourceLocation): Diagnostic => ({
    code: 'unknown-merge-field',
    severity: 'error',
    message: `${message}; fields: ${[...fields].join(', ')}, subscriber.attributes.NAME`,
    file,
    line: (loc?.start.line ?? 1) + firstLine - 1,
  });
  const checkPath = (path: hbs.AST.PathExpression) => {
    if (!isKnownField(path.original)) found.push(unknown(`unknown merge field "${path.original}"`, path.loc));
  };
  const visitExpression = (node: hbs.AST.Expression) => {
    if (node.type === 'PathExpression') checkPath(node as hbs.AST.PathExpression);
    else if (node.type === 'SubExpression') visitCall(node as hbs.AST.SubExpression);
  };
  // `{{field}}`, `{{helper arg…}}`, `{{#if field}}…{{/if}}`: a call names a helper, a bare name a field.
  const visitCall = (node: hbs.AST.MustacheStatement | hbs.AST.BlockStatement | hbs.AST.SubExpression) => {
    const path = node.path as hbs.AST.PathExpression;
    const isBlock = node.type === 'BlockStatement';
    if (isBlock || node.params.length > 0) {
      if (!(path.original in helpers) && !blockHelpers.has(path.original)) {
        found.push(unknown(`unknown merge helper "${path.original}" (known: default, if, unless)`, node.loc));
      }
    } else if (path.type === 'PathExpression') checkPath(path);
    node.params.forEach(visitExpression);
    node.hash?.pairs.forEach((pair) => visitExpression(pair.value));
    if (isBlock) {
      visitProgram((node as hbs.AST.BlockStatement).program);
      visitProgram((node as hbs.AST.BlockStatement).inverse);
    }
  };
  const visitProgram = (block: hbs.AST.Program | undefined) => {
    for (const statement of block?.body ?? []) {
      if (statement.type === 'MustacheStatement' || statement.type === 'BlockStatement') {
        visitCall(statement as hbs.AST.MustacheStatement);
      } else if (statement.type === 'PartialStatement' || statement.type === 'PartialBlockStatement') {
        found.push(unknown('partials cannot be used in an issue', statement.loc));
      }
    }
  };
  visitProgram(program);
  return dedupe(found);
}

function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.line}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
