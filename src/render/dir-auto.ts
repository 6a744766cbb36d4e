import type { Element, Root } from 'hast';
import { visit } from 'unist-util-visit';

/**
 * The blocks of an issue's text that each pick their own direction from their first strong letter
 * (`dir="auto"`), so an Arabic quote in an English issue, or an English one in an Arabic issue,
 * reads in its own order. Run after the sanitiser: the attribute is ours, not the issue's.
 */
const blocks = new Set(['p', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote']);

/** A rehype step: `dir="auto"` on each such block that does not say its direction already. */
export function rehypeDirAuto() {
  return (tree: Root) => {
    visit(tree, 'element', (node: Element) => {
      if (blocks.has(node.tagName) && node.properties.dir === undefined) node.properties.dir = 'auto';
    });
  };
}
