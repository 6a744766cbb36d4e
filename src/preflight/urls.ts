import { Parser } from 'htmlparser2';

/** One place the built email points to: a link's href or an image's src, as written in the HTML (entities undone). */
export interface Reference {
  kind: 'link' | 'image';
  /** The attribute's value, trimmed. */
  url: string;
  /** An image's width and height attributes as written (`600`, `auto`, `50%`), for the aspect check. */
  width?: string;
  height?: string;
}

/**
 * Every `a[href]` and `img[src]` of the built HTML, in document order, read by a real HTML parser
 * (htmlparser2, as html-to-text uses): quoting, entities and attribute order are its business, not a
 * regex's. The hero, the logo and the body's images are all `<img>` in what mjml builds. Outlook's
 * conditional comments are comments to the parser, so nothing inside them is counted twice.
 */
export function referencesIn(html: string): Reference[] {
  const found: Reference[] = [];
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'a' && attributes.href !== undefined) found.push({ kind: 'link', url: attributes.href.trim() });
        else if (name === 'img' && attributes.src !== undefined) {
          found.push({ kind: 'image', url: attributes.src.trim(), width: attributes.width, height: attributes.height });
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return found;
}

/**
 * The http(s) URL to fetch for a reference, or why it is not fetched: merge fields (filled per reader,
 * `{{unsubscribe_url}}`), other schemes (mailto:, tel:, data:, cid:), in-page anchors and relative
 * paths the edition did not resolve.
 */
export function fetchable(url: string): URL | undefined {
  if (!url || url.startsWith('#') || url.includes('{{')) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  parsed.hash = '';
  return parsed;
}
