import type { Definition, Root, RootContent, PhrasingContent } from 'mdast';
import rehypeRaw from 'rehype-raw';
import rehypeSanitize, { defaultSchema } from 'rehype-sanitize';
import rehypeStringify from 'rehype-stringify';
import remarkRehype from 'remark-rehype';
import { unified } from 'unified';
import { rehypeDirAuto } from './dir-auto.js';

/**
 * GitHub's sanitizing rules (no <script>, no event handlers, no javascript: links) with the few
 * additions an email needs. Raw HTML in an issue is parsed, then filtered, never passed through.
 * It keeps `dir` on any element, so an issue's own `<p dir="rtl">` survives the filter.
 */
const schema = {
  ...defaultSchema,
  // Keep heading ids readable for in-email anchors; still prefixed so they cannot clobber globals.
  clobberPrefix: 'digest-',
};

const toHtml = unified()
  .use(remarkRehype, { allowDangerousHtml: true })
  .use(rehypeRaw)
  .use(rehypeSanitize, schema)
  .use(rehypeDirAuto)
  .use(rehypeStringify)
  .freeze();

/**
 * Turns Markdown nodes into safe HTML. `definitions` are the document's link reference definitions,
 * so a `[story][1]` resolves even though this fragment is rendered on its own.
 */
export function fragmentHtml(nodes: RootContent[], definitions: Definition[] = []): string {
  const root: Root = { type: 'root', children: [...nodes, ...definitions] };
  return restoreMergeFields(toHtml.stringify(toHtml.runSync(root)).trim());
}

/**
 * A merge field in a link (`[update your details]({{subscriber.preferences_url}})`) comes out of the
 * URL normaliser percent-encoded; it must reach the sending pass as the field it was.
 */
function restoreMergeFields(html: string): string {
  return html.replace(/%7B%7B(.*?)%7D%7D/g, (_, inner: string) => `{{${decodeURIComponent(inner)}}}`);
}

/** The inline content of a heading or list item, without the wrapping block element. */
export function inlineHtml(nodes: PhrasingContent[], definitions: Definition[] = []): string {
  return fragmentHtml([{ type: 'paragraph', children: nodes }], definitions)
    .replace(/^<p[^>]*>/, '')
    .replace(/<\/p>$/, '');
}
