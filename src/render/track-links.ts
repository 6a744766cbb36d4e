import { Parser } from 'htmlparser2';
import type { ResolvedConfig } from '../config.js';
import { escapeHtml } from '../escape.js';
import type { IssueMeta } from '../issue/load.js';
import { clickBase, sealClick, webUrl, type ClickKey } from '../tracking/token.js';

/**
 * The links of the built email, rewritten (docs/tracking.md): UTM parameters added to links on the
 * config's domains, then, with tracking.clicks, every link sent through digest serve's redirect.
 * Both steps leave alone what is not a plain web link (mailto:, tel:, #anchors, merge fields such as
 * {{unsubscribe_url}}) and the links that must reach digest serve unchanged: the unsubscribe
 * endpoint, and tracked links themselves.
 */

/** The merge field a tracked link ends with when clicks are kept per reader: the reader's own token. */
export const READER_FIELD = 'click_reader';

export interface UtmStep {
  /** `utm_source`, `utm_medium`, `utm_campaign` with their values, `{{slug}}` already filled. */
  params: [string, string][];
  domains: string[];
}

export interface TrackStep {
  /** `<baseUrl>/c/` */
  base: string;
  seal: (url: string) => string;
  perReader: boolean;
}

export interface LinkSteps {
  utm?: UtmStep;
  track?: TrackStep;
  /** Never rewritten: the unsubscribe endpoint, the click base. */
  untouched: string[];
  /** Never tracked (UTM may still be added): the subscribe page, as the template links it, with any query. */
  untracked: string[];
}

/** What the config and the issue's front matter ask for; `key` seals the tracked links (none: no tracking). */
export function linkSteps(meta: IssueMeta, config: ResolvedConfig, key: ClickKey | undefined): LinkSteps {
  const base = config.baseUrl ? clickBase(config.baseUrl) : undefined;
  const values = { ...definedOnly({ source: config.utm.source, medium: config.utm.medium, campaign: config.utm.campaign }), ...definedOnly(meta.utm ?? {}) };
  const params = Object.entries(values).map(([name, value]): [string, string] => [`utm_${name}`, value.replace(/\{\{\s*slug\s*\}\}/g, meta.slug)]);
  return {
    utm: params.length && config.utm.domains.length ? { params, domains: config.utm.domains.map((domain) => domain.toLowerCase().replace(/^\.+|\.+$/g, '')) } : undefined,
    track:
      key && base && config.tracking.clicks
        ? { base, seal: (url) => sealClick({ issue: meta.slug, url }, key), perReader: config.tracking.perReader }
        : undefined,
    untouched: [config.unsubscribeUrl, base].filter((url): url is string => !!url),
    // The subscribe box links to baseUrl when no subscribeUrl is set (compose.ts): that page, not all below it.
    untracked: [config.subscribeUrl ?? config.baseUrl].filter((url): url is string => !!url),
  };
}

/** UTM parameters on the links to the listed domains; a parameter the link has already is kept as it is. */
export function addUtm(html: string, steps: LinkSteps): string {
  const utm = steps.utm;
  if (!utm) return html;
  return rewriteHrefs(html, (href) => {
    if (!rewritable(href, steps.untouched) || !webUrl(href)) return undefined;
    const url = new URL(href);
    const host = url.hostname.toLowerCase();
    if (!utm.domains.some((domain) => host === domain || host.endsWith(`.${domain}`))) return undefined;
    const missing = utm.params.filter(([name]) => !url.searchParams.has(name));
    if (!missing.length) return undefined;
    // Appended to the link as written: re-serialising it through URL would re-encode its own query.
    const hash = href.indexOf('#');
    const [main, fragment] = hash === -1 ? [href, ''] : [href.slice(0, hash), href.slice(hash)];
    const joiner = !main.includes('?') ? '?' : /[?&]$/.test(main) ? '' : '&';
    return `${main}${joiner}${missing.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&')}${fragment}`;
  });
}

/** Every web link through the redirect: `<base>/c/<token>`, and `/{{click_reader}}` after it per reader. */
export function trackLinks(html: string, steps: LinkSteps): string {
  const track = steps.track;
  if (!track) return html;
  // A link repeated in the issue (a button and its heading) is one token, and one row of counts.
  const tokens = new Map<string, string>();
  return rewriteHrefs(html, (href) => {
    if (!rewritable(href, steps.untouched) || steps.untracked.some((page) => samePage(href, page)) || !webUrl(href)) return undefined;
    let token = tokens.get(href);
    if (!token) tokens.set(href, (token = track.seal(href)));
    return `${track.base}${token}${track.perReader ? `/{{${READER_FIELD}}}` : ''}`;
  });
}

/** An absolute http(s) link with no merge field in it, outside the given bases. */
function rewritable(href: string, bases: string[]): boolean {
  if (href.includes('{{') || !/^https?:\/\//i.test(href)) return false;
  return !bases.some((base) => within(href, base));
}

/** The same page, whatever its query or fragment: `https://x.org/join?ref=1` is `https://x.org/join/`. */
function samePage(href: string, page: string): boolean {
  const path = (url: string) => url.replace(/[?#].*$/s, '').replace(/\/+$/, '').toLowerCase();
  return path(href) === path(page);
}

function within(href: string, base: string): boolean {
  const root = base.replace(/\/+$/, '');
  if (!href.toLowerCase().startsWith(root.toLowerCase())) return false;
  const next = href.charAt(root.length);
  return next === '' || next === '/' || next === '?' || next === '#';
}

/**
 * Calls `rewrite` with the value of each `<a href>` as a browser reads it (entities decoded, white
 * space around it trimmed) and puts what it returns in its place, leaving every other byte as it
 * was. htmlparser2 finds the attributes, so that an href inside a comment, a <style> or another
 * attribute's value is never mistaken for one; only the first href of a tag counts, as in browsers.
 */
function rewriteHrefs(html: string, rewrite: (href: string) => string | undefined): string {
  const edits: { start: number; end: number; text: string }[] = [];
  let tag = '';
  let seen = false;
  const parser = new Parser(
    {
      onopentagname(name) {
        tag = name;
        seen = false;
      },
      onattribute(name, value) {
        if (tag !== 'a' || name !== 'href' || seen) return;
        seen = true;
        const replaced = rewrite(value.trim());
        // The attribute spans from its name to past its closing quote (or its last character).
        if (replaced !== undefined) edits.push({ start: parser.startIndex, end: parser.endIndex, text: `href="${escapeHtml(replaced)}"` });
      },
    },
    { decodeEntities: true },
  );
  parser.end(html);
  if (!edits.length) return html;
  let out = '';
  let at = 0;
  for (const edit of edits) {
    out += html.slice(at, edit.start) + edit.text;
    at = edit.end;
  }
  return out + html.slice(at);
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
