import Handlebars from 'handlebars';
import type { Root } from 'mdast';
import { toString } from 'mdast-util-to-string';
import { visit } from 'unist-util-visit';
import type { ResolvedConfig } from '../config.js';
import type { Diagnostic } from '../issue/diagnostic.js';
import type { IssueSource } from '../issue/load.js';
import { editionLanguage, isRelative } from './compose.js';
import { labelsFor } from './labels.js';
import type { Outline } from './outline.js';

/** What the rules look at: the issue as written and the email as built. */
export interface LintInput {
  issue: IssueSource;
  tree: Root;
  outline: Outline;
  html: string;
  config: ResolvedConfig;
  /** A message to one person who asked for it (the sign-up confirmation), not a bulk issue. */
  transactional?: boolean;
  /** Clicks are recorded per reader (tracking.perReader): the footer must say so. */
  readerLinks?: boolean;
}

/** Each rule is a small function from the built issue to what it finds. */
export type Rule = (input: LintInput) => Diagnostic[];

/** Gmail shows "[Message clipped]" past about 102 KB of HTML, hiding the footer and its unsubscribe link. */
export const GMAIL_CLIP_BYTES = 102_000;
export const GMAIL_CLIP_WARN_BYTES = 90_000;
/** Inbox lists cut subjects around here on a phone; a longer one loses its end. */
export const SUBJECT_LIMIT = 70;

const gmailClip: Rule = ({ issue, html }) => {
  const bytes = Buffer.byteLength(html);
  const kb = (bytes / 1000).toFixed(1);
  if (bytes > GMAIL_CLIP_BYTES) {
    return [d('gmail-clip', 'error', issue, `the HTML is ${kb} KB: Gmail clips messages over 102 KB, hiding the rest and the unsubscribe link`)];
  }
  if (bytes >= GMAIL_CLIP_WARN_BYTES) {
    return [d('gmail-clip', 'warning', issue, `the HTML is ${kb} KB, close to Gmail's 102 KB clipping limit`)];
  }
  return [];
};

const missingAlt: Rule = ({ issue, tree, html }) => {
  const found: Diagnostic[] = [];
  const reported = new Set<string>();
  visit(tree, 'image', (image) => {
    if (!image.alt?.trim()) {
      reported.add(image.url);
      found.push(d('missing-alt', 'error', issue, `image ${image.url} has no alt text: write ![what it shows](…)`, image.position?.start.line));
    }
  });
  // Images from raw HTML in the body or from the template itself.
  for (const tag of html.match(/<img\b[^>]*>/gi) ?? []) {
    if (!/\balt\s*=/i.test(tag)) {
      const src = /\bsrc\s*=\s*"([^"]*)"/i.exec(tag)?.[1] ?? '';
      if (reported.has(src)) continue;
      found.push(d('missing-alt', 'error', issue, `an image in the built HTML has no alt attribute (${src})`));
    }
  }
  return found;
};

const emptyLink: Rule = ({ issue, tree }) => {
  const found: Diagnostic[] = [];
  visit(tree, 'link', (link) => {
    const line = link.position?.start.line;
    if (!link.url.trim() || link.url.trim() === '#') found.push(d('empty-link', 'error', issue, `the link "${toString(link)}" goes nowhere`, line));
    else if (!toString(link).trim() && !link.children.some((child) => child.type === 'image')) {
      found.push(d('empty-link', 'error', issue, `the link to ${link.url} has no text for readers to click`, line));
    }
  });
  return found;
};

const insecureLink: Rule = ({ issue, tree }) => {
  const found: Diagnostic[] = [];
  const check = (url: string | undefined, line: number | undefined) => {
    if (url && /^http:\/\//i.test(url.trim())) {
      found.push(d('insecure-link', 'warning', issue, `${url} is not https: mail clients flag such links, and readers are exposed on the way`, line));
    }
  };
  visit(tree, (node) => {
    if (node.type === 'link' || node.type === 'image') check(node.url, node.position?.start.line);
    if (node.type === 'leafDirective') check(node.attributes?.href ?? undefined, node.position?.start.line);
  });
  if (issue.meta.image) check(issue.meta.image.src, issue.lineOf('image'));
  return found;
};

const longSubject: Rule = ({ issue }) => {
  const length = [...new Intl.Segmenter().segment(issue.meta.subject)].length;
  if (length <= SUBJECT_LIMIT) return [];
  const key = issue.meta.subject === issue.meta.title && !issue.lineOf('subject') ? 'title' : 'subject';
  return [
    d('long-subject', 'warning', issue, `the subject is ${length} characters: inboxes cut it near ${SUBJECT_LIMIT} (set a shorter subject:)`, issue.lineOf(key)),
  ];
};

const missingPreheader: Rule = ({ issue, outline }) => {
  if (issue.meta.preheader) return [];
  const opening = outline.openingText.slice(0, 60);
  return [
    d(
      'missing-preheader',
      'warning',
      issue,
      opening
        ? `no preheader: inboxes will preview the opening words ("${opening}…"); set preheader: in the front matter`
        : 'no preheader and no opening paragraph: inboxes will preview whatever comes first; set preheader:',
      1,
    ),
  ];
};

// The sign-up confirmation goes to someone not on the list yet: there is nothing to leave.
const missingUnsubscribe: Rule = ({ issue, html, transactional }) =>
  transactional || /\{\{\s*unsubscribe_url\s*\}\}/.test(html)
    ? []
    : [d('missing-unsubscribe', 'error', issue, 'the template has no {{unsubscribe_url}} link: every bulk message must let the reader leave')];

const missingAddress: Rule = ({ issue, config }) =>
  config.address?.trim()
    ? []
    : [d('missing-address', 'error', issue, `no postal address configured: set address: in ${config.file ? 'the config file' : 'digest.config.yaml'} (the law in many countries requires it)`)];

const headingLevels: Rule = ({ issue, outline }) =>
  outline.extraTitles.map((heading) =>
    d('heading-level', 'warning', issue, 'a "# " heading competes with the issue title (the only h1): use "## " for sections', heading.position?.start.line),
  );

const relativeImage: Rule = ({ issue, tree, config }) => {
  if (config.baseUrl) return [];
  const found: Diagnostic[] = [];
  const check = (src: string, line?: number) => {
    if (isRelative(src)) {
      found.push(d('relative-image', 'error', issue, `image ${src} is a relative path: mail clients cannot load it; use an https:// URL or set baseUrl in the config`, line));
    }
  };
  visit(tree, 'image', (image) => check(image.url, image.position?.start.line));
  if (issue.meta.image) check(issue.meta.image.src, issue.lineOf('image'));
  return found;
};

// Recording each reader's clicks unannounced is what the footer's sentence exists to prevent: a
// template of one's own must print labels.tracked too (docs/tracking.md shows how).
const undisclosedTracking: Rule = ({ issue, html, config, readerLinks }) => {
  if (!readerLinks) return [];
  const sentence = labelsFor(editionLanguage(issue.meta, config).language, config.labels).tracked;
  if (html.includes(sentence) || html.includes(Handlebars.escapeExpression(sentence))) return [];
  return [d('undisclosed-tracking', 'error', issue, 'tracking.perReader is on but the email does not say so: the template\'s footer must print {{labels.tracked}} (see docs/tracking.md)')];
};

// UTM values in the front matter go only on links to the config's utm.domains: with none listed, nothing happens.
const utmWithoutDomains: Rule = ({ issue, config }) =>
  issue.meta.utm && Object.keys(issue.meta.utm).length && !config.utm.domains.length
    ? [d('utm-no-domains', 'warning', issue, 'utm: is set but the config lists no utm.domains, so no link gets the parameters', issue.lineOf('utm'))]
    : [];

/** The rules in the order they report. */
export const rules: Record<string, Rule> = {
  'gmail-clip': gmailClip,
  'missing-alt': missingAlt,
  'empty-link': emptyLink,
  'insecure-link': insecureLink,
  'long-subject': longSubject,
  'missing-preheader': missingPreheader,
  'missing-unsubscribe': missingUnsubscribe,
  'missing-address': missingAddress,
  'heading-level': headingLevels,
  'relative-image': relativeImage,
  'undisclosed-tracking': undisclosedTracking,
  'utm-no-domains': utmWithoutDomains,
};

export function lint(input: LintInput): Diagnostic[] {
  return Object.values(rules).flatMap((rule) => rule(input));
}

function d(code: string, severity: Diagnostic['severity'], issue: IssueSource, message: string, line?: number): Diagnostic {
  return line === undefined ? { code, severity, message, file: issue.file } : { code, severity, message, file: issue.file, line };
}
