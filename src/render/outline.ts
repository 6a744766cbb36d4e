import type { Definition, Heading, Image, List, Paragraph, Root, RootContent } from 'mdast';
import type { ContainerDirective, LeafDirective } from 'mdast-util-directive';
import { toString } from 'mdast-util-to-string';
import { fragmentHtml, inlineHtml } from './fragment.js';

/**
 * The shape of an issue as the template sees it. Fields named `…Html` hold sanitized HTML (for
 * `{{{triple}}}` output); all others are plain text that Handlebars escapes.
 */
export type Block =
  | { type: 'prose'; html: string }
  | { type: 'image'; src: string; alt: string; caption?: string; line?: number }
  | { type: 'button'; label: string; href: string }
  | { type: 'related'; title: string; href: string; kicker?: string; summary?: string }
  | { type: 'divider' };

/** A run of blocks on the page's white panel, or a highlighted callout band. */
export type Part = { callout: false; blocks: Block[] } | { callout: true; title?: string; blocks: Block[] };

export interface Section {
  title: string;
  titleHtml: string;
  id: string;
  line?: number;
  parts: Part[];
}

export interface Outline {
  /** What comes before the summary and the first section: the editor's note. */
  intro: Part[];
  /** "In this issue": the bullet list before the first `##`, one item's HTML each. */
  summary: string[];
  sections: Section[];
  /** The first words of the body, for a preheader the editor did not write. */
  openingText: string;
  /** Body headings of level 1, which would compete with the issue title. */
  extraTitles: Heading[];
}

/**
 * Reads the Markdown tree as a newsletter: the bullet list before the first `##` heading is
 * the summary, each `##` opens a section, directives become buttons, cards and callouts.
 */
export function outline(tree: Root): Outline {
  const definitions = tree.children.filter((node): node is Definition => node.type === 'definition');
  const intro: RootContent[] = [];
  const sections: { heading: Heading; nodes: RootContent[] }[] = [];
  const extraTitles: Heading[] = [];
  let summaryList: List | undefined;

  for (const node of tree.children) {
    if (node.type === 'definition') continue;
    if (node.type === 'heading' && node.depth <= 2) {
      if (node.depth === 1) extraTitles.push(node);
      sections.push({ heading: node, nodes: [] });
      continue;
    }
    const current = sections.at(-1);
    if (current) current.nodes.push(node);
    else if (!summaryList && node.type === 'list' && !node.ordered) summaryList = node;
    else intro.push(node);
  }

  const blocks = (nodes: RootContent[]) => toParts(nodes, definitions);
  return {
    intro: blocks(intro),
    summary: (summaryList?.children ?? []).map((item) =>
      item.children
        .map((child) => (child.type === 'paragraph' ? inlineHtml(child.children, definitions) : fragmentHtml([child], definitions)))
        .join(' '),
    ),
    sections: sections.map(({ heading, nodes }) => ({
      title: toString(heading).trim(),
      titleHtml: inlineHtml(heading.children, definitions),
      id: anchor(toString(heading)),
      line: heading.position?.start.line,
      parts: blocks(nodes),
    })),
    openingText: openingText(tree),
    extraTitles,
  };
}

function toParts(nodes: RootContent[], definitions: Definition[]): Part[] {
  const parts: Part[] = [];
  let panel: Block[] = [];
  let prose: RootContent[] = [];
  const flushProse = () => {
    if (prose.length) panel.push({ type: 'prose', html: fragmentHtml(prose, definitions) });
    prose = [];
  };
  const flushPanel = () => {
    flushProse();
    if (panel.length) parts.push({ callout: false, blocks: panel });
    panel = [];
  };

  for (const node of nodes) {
    if (node.type === 'containerDirective') {
      flushPanel();
      parts.push(callout(node, definitions));
      continue;
    }
    const block = toBlock(node);
    if (block) {
      flushProse();
      panel.push(block);
    } else prose.push(node);
  }
  flushPanel();
  return parts;
}

function callout(node: ContainerDirective, definitions: Definition[]): Part {
  // `:::callout[Title]`: the bracketed label arrives as the first paragraph, flagged as such.
  const [first, ...rest] = node.children;
  const labelled = first?.type === 'paragraph' && (first.data as { directiveLabel?: boolean } | undefined)?.directiveLabel;
  const children = labelled ? rest : node.children;
  const inner = toParts(children, definitions).flatMap((part) => part.blocks);
  return { callout: true, title: labelled ? toString(first).trim() : undefined, blocks: inner };
}

/** A node that is a block of its own in the template, or undefined for ordinary prose. */
function toBlock(node: RootContent): Block | undefined {
  if (node.type === 'thematicBreak') return { type: 'divider' };
  if (node.type === 'leafDirective') return directiveBlock(node);
  const image = loneImage(node);
  if (image) {
    return {
      type: 'image',
      src: image.url,
      alt: image.alt ?? '',
      caption: image.title ?? undefined,
      line: image.position?.start.line,
    };
  }
  return undefined;
}

function directiveBlock(node: LeafDirective): Block {
  const label = toString(node).trim();
  const href = node.attributes?.href?.trim() ?? '';
  if (node.name === 'button') return { type: 'button', label, href };
  return {
    type: 'related',
    title: label,
    href,
    kicker: node.attributes?.kicker?.trim() || undefined,
    summary: node.attributes?.summary?.trim() || undefined,
  };
}

/** A paragraph that holds one image and nothing else is a figure, not inline art. */
function loneImage(node: RootContent): Image | undefined {
  if (node.type !== 'paragraph') return undefined;
  const content = (node as Paragraph).children.filter((child) => !(child.type === 'text' && child.value.trim() === ''));
  return content.length === 1 && content[0]!.type === 'image' ? content[0] : undefined;
}

function anchor(text: string): string {
  const plain = text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
  const latin = plain.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  // A heading in Arabic, Hebrew, Cyrillic… has no Latin letters: keep its own, not "section" for all.
  const own = latin ? '' : plain.replace(/\p{M}+/gu, '').replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '');
  return latin || own || 'section';
}

function openingText(tree: Root): string {
  const paragraph = tree.children.find((node): node is Paragraph => node.type === 'paragraph' && !loneImage(node));
  return paragraph ? toString(paragraph).replace(/\s+/g, ' ').trim() : '';
}
