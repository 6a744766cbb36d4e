import type { Root, Parents, PhrasingContent } from 'mdast';
import type { ContainerDirective, LeafDirective, TextDirective } from 'mdast-util-directive';
import remarkDirective from 'remark-directive';
import remarkGfm from 'remark-gfm';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { SKIP, visit } from 'unist-util-visit';
import { UserError } from '../errors.js';
import { toString } from 'mdast-util-to-string';

/** The directives an issue may use, by the syntax each takes. */
export const directives = {
  leafDirective: ['button', 'related'],
  containerDirective: ['callout'],
  textDirective: [] as string[],
} as const;

const parser = unified().use(remarkParse).use(remarkGfm).use(remarkDirective).freeze();

const syntax = { leafDirective: '::', containerDirective: ':::', textDirective: ':' } as const;

/**
 * Parses an issue's body into a Markdown tree (CommonMark + GFM + generic directives) whose
 * positions are lines of the issue file itself, and rejects what would otherwise silently vanish:
 * an unknown directive, a `:::` block never closed.
 */
export function parseBody(body: string, bodyLine: number, file: string): Root {
  // Blank lines in front keep every position equal to the line in the file; Markdown ignores them.
  const source = '\n'.repeat(bodyLine - 1) + body;
  const tree = parser.parse(source);

  visit(tree, (node, index, parent) => {
    if (node.type === 'textDirective') {
      return restoreTextDirective(node, index, parent, source, file);
    }
    if (node.type !== 'leafDirective' && node.type !== 'containerDirective') return;
    const line = node.position?.start.line;
    const allowed: readonly string[] = directives[node.type];
    if (!allowed.includes(node.name)) {
      const hint = suggestion(node.name);
      throw new UserError(`unknown directive ${syntax[node.type]}${node.name}${hint}`, { file, line, code: 'unknown-directive' });
    }
    if (node.type === 'containerDirective') assertClosed(node, source, file);
    else checkLinkDirective(node, file);
  });
  return tree;
}

function suggestion(name: string): string {
  const all = [...directives.leafDirective.map((n) => `::${n}`), ...directives.containerDirective.map((n) => `:::${n}`)];
  const near = all.find((candidate) => candidate.replace(/^:+/, '') === name);
  return near ? ` (did you mean ${near}?)` : ` (known: ${all.join(', ')})`;
}

/**
 * Prose is full of colons ("Note:this", "10:30"), which the directive syntax reads as inline
 * directives. None is defined, so a bare `:word` goes back to being the text it was; one with a
 * [label] or {attributes} was clearly meant as a directive and is an error.
 */
function restoreTextDirective(
  node: TextDirective,
  index: number | undefined,
  parent: Parents | undefined,
  source: string,
  file: string,
): [typeof SKIP, number] | undefined {
  const start = node.position?.start.offset;
  const end = node.position?.end.offset;
  const raw = start === undefined || end === undefined ? `:${node.name}` : source.slice(start, end);
  if (raw !== `:${node.name}`) {
    const leaf = (directives.leafDirective as readonly string[]).includes(node.name);
    const message = leaf
      ? `::${node.name} must stand on a line of its own, with two colons`
      : `unknown directive :${node.name}${suggestion(node.name)}`;
    throw new UserError(message, { file, line: node.position?.start.line, code: 'unknown-directive' });
  }
  if (parent && index !== undefined) {
    const text: PhrasingContent = { type: 'text', value: raw, position: node.position };
    parent.children.splice(index, 1, text as never);
    return [SKIP, index + 1] as [typeof SKIP, number];
  }
  return undefined;
}

function assertClosed(node: ContainerDirective, source: string, file: string) {
  const start = node.position?.start.offset ?? 0;
  const end = node.position?.end.offset ?? source.length;
  const lines = source.slice(start, end).trimEnd().split('\n');
  const closing = lines.length > 1 ? lines[lines.length - 1]! : '';
  if (!/^\s*:{3,}\s*$/.test(closing)) {
    throw new UserError(`:::${node.name} is never closed: end it with a line holding only :::`, {
      file,
      line: node.position?.start.line,
      code: 'unclosed-directive',
    });
  }
}

function checkLinkDirective(node: LeafDirective, file: string) {
  const line = node.position?.start.line;
  const label = toString(node).trim();
  const href = node.attributes?.href ?? '';
  const example = `::${node.name}[${node.name === 'button' ? 'Support our newsroom' : 'Story title'}]{href="https://…"}`;
  if (!label) throw new UserError(`::${node.name} needs a label in brackets, as in ${example}`, { file, line, code: 'invalid-directive' });
  if (!href.trim()) throw new UserError(`::${node.name} needs an href, as in ${example}`, { file, line, code: 'invalid-directive' });
}
