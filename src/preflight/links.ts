import { readFile } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { dirname, resolve } from 'node:path';
import { imageSize } from 'image-size';
import { Agent } from 'undici';
import type { Diagnostic } from '../issue/diagnostic.js';
import type { CheckResult, PreflightCheck, PreflightContext } from './check.js';
import { LinkCache, isGood } from './link-cache.js';
import { probe, type ImageFacts, type Probe } from './probe.js';
import { SourceLines } from './source-lines.js';
import { fetchable, referencesIn, type Reference } from './urls.js';

/** The template's layout width; an image more than twice as wide (for sharp screens) only adds bytes. */
export const LAYOUT_WIDTH = 600;
export const MAX_IMAGE_WIDTH = LAYOUT_WIDTH * 2;
/** Redirects followed before a URL is reported as `…-redirect-loop`. */
export const MAX_REDIRECTS = 10;
/** How far an image's width/height attributes may stray from its own proportions before it looks squashed. */
const ASPECT_TOLERANCE = 0.05;

/** The defaults of the config's `preflight:` (src/config.ts), for a config built without the schema. */
const DEFAULTS = { concurrency: 8, timeout: 10, imageBudgetKB: 1000, cacheHours: 24, skipHosts: [] as string[] };

/** One URL to fetch, with every place the email uses it. */
interface Target {
  url: string;
  kind: 'link' | 'image';
  references: Reference[];
  /** What the editor wrote: the relative path of an image beside the issue, else the URL. */
  label: string;
  /** The relative path when it is one of the edition's assets (published under baseUrl with the issue). */
  asset?: string;
  /** This is the issue's own web version ("view in browser"), published under baseUrl. */
  webVersion?: boolean;
  line?: number;
}

interface Outcome {
  target: Target;
  result: Probe;
  fromCache: boolean;
  /** An unpublished image read from the file beside the issue instead. */
  local?: ImageFacts;
}

/**
 * Every link and image of the built issue fetched (bounded, cached, each redirect seen), and the
 * images weighed and measured. Findings carry the line of the issue file where the URL is written.
 */
export const linksCheck: PreflightCheck = {
  id: 'links',
  title: "every link and image fetched; images' bytes and dimensions against a budget",
  run: checkLinks,
};

export async function checkLinks(context: PreflightContext): Promise<CheckResult> {
  const settings = { ...DEFAULTS, ...context.config.preflight };
  const { targets, skipped } = targetsOf(context, settings.skipHosts);
  const cache = await LinkCache.open(context.cacheDir, settings.cacheHours);
  const agent = new Agent({ connect: { timeout: settings.timeout * 1000 }, keepAliveTimeout: 2000 });
  const outcomes: Outcome[] = [];
  let failed = false;
  let unsaved: unknown;
  try {
    await eachLimited(targets, settings.concurrency, async (target) => {
      context.signal?.throwIfAborted();
      const cached = cache.get(target.url, target.kind);
      if (cached) {
        outcomes.push({ target, result: cached, fromCache: true });
        return;
      }
      const result = await probe(target.url, target.kind, { dispatcher: agent, timeoutMs: settings.timeout * 1000, maxRedirects: MAX_REDIRECTS, signal: context.signal });
      cache.put(result);
      outcomes.push({ target, result, fromCache: false, local: isGood(result) ? undefined : await localImage(context, target) });
    });
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await (failed ? agent.destroy() : agent.close());
    // What was learnt before a stop is kept too. A cache that cannot be written costs the next run time, not this one its answer.
    await cache.save().catch((error: unknown) => (unsaved = error));
  }

  outcomes.sort((a, b) => targets.indexOf(a.target) - targets.indexOf(b.target));
  const file = context.issue.file;
  const diagnostics: Diagnostic[] = [];
  const notes: string[] = [];
  const report = (code: string, severity: Diagnostic['severity'], message: string, line?: number) =>
    diagnostics.push(line === undefined ? { code, severity, message, file } : { code, severity, message, file, line });

  const weighed: { label: string; bytes: number }[] = [];
  for (const outcome of outcomes) {
    const { target, result } = outcome;
    findingsOf(outcome, report, notes);
    const facts = outcome.local ?? result.image;
    if (target.kind === 'image' && facts) {
      notes.push(`${target.label} ${describe(facts)}${outcome.local ? ' (the file beside the issue: not published yet)' : ''}`);
      if (facts.bytes !== undefined) weighed.push({ label: target.label, bytes: facts.bytes });
      imageFindings(target, facts, report);
    }
  }

  const total = weighed.reduce((sum, image) => sum + image.bytes, 0);
  if (weighed.length > 0) {
    notes.push(`images: ${weighed.length}, ${kb(total)} in all (budget ${kb(settings.imageBudgetKB * 1000)})`);
  }
  if (total > settings.imageBudgetKB * 1000) {
    const heaviest = [...weighed].sort((a, b) => b.bytes - a.bytes).slice(0, 3).map((image) => `${image.label} ${kb(image.bytes)}`);
    report(
      'images-over-budget',
      'warning',
      `the issue's images add up to ${kb(total)}, over the ${kb(settings.imageBudgetKB * 1000)} budget (preflight.imageBudgetKB): readers on phones wait and pay for every byte; the heaviest: ${heaviest.join(', ')}`,
    );
  }

  const cached = outcomes.filter((outcome) => outcome.fromCache).length;
  const kept = settings.cacheHours > 0 ? `kept ${settings.cacheHours} h` : 'off: preflight.cacheHours is 0';
  notes.push(`${targets.length} URL${targets.length === 1 ? '' : 's'} checked: ${targets.length - cached} fetched, ${cached} from the cache (${kept})`);
  if (unsaved) notes.push(`the cache could not be written (${(unsaved as Error).message}): the next run asks every URL again`);
  if (skipped.length > 0) notes.push(`not fetched, their hosts being in preflight.skipHosts: ${skipped.join(', ')}`);
  return { check: 'links', diagnostics, notes };
}

/** The distinct http(s) URLs of the built email, in order, each with its line in the issue file. */
function targetsOf(context: PreflightContext, skipHosts: string[]): { targets: Target[]; skipped: string[] } {
  const { edition, config } = context;
  const base = config.baseUrl ? `${config.baseUrl.replace(/\/+$/, '')}/` : undefined;
  const assets = new Map<string, string>();
  let webVersion: string | undefined;
  if (base) {
    for (const asset of edition.assets) assets.set(new URL(asset, base).href, asset);
    webVersion = new URL(`issues/${edition.meta.slug}/`, base).href;
  }
  const lines = new SourceLines(context.source);
  const text = context.source.split(/\r?\n/);
  const byUrl = new Map<string, Target>();
  const skipped = new Set<string>();
  // The links as they really go: fetching a tracked one would count a click.
  for (const reference of referencesIn(edition.untracked)) {
    const url = fetchable(reference.url);
    if (!url) continue;
    if (skipHosts.some((host) => hostMatches(url, host))) {
      skipped.add(url.href);
      continue;
    }
    let target = byUrl.get(url.href);
    if (!target) {
      const asset = assets.get(url.href);
      target = { url: url.href, kind: reference.kind, references: [], label: asset ?? url.href, asset, webVersion: url.href === webVersion || undefined };
      target.line = lineOf(lines, text, reference.url, asset);
      byUrl.set(url.href, target);
    }
    // The same URL as a link and as an image is fetched once, as an image (that answer says more).
    if (reference.kind === 'image') target.kind = 'image';
    target.references.push(reference);
  }
  return { targets: [...byUrl.values()], skipped: [...skipped] };
}

/**
 * Where the editor wrote it: the relative path of an image beside the issue, the URL as written, or
 * spelt as the HTML spells it. A line holding the URL whole (not `…/chart.png?raw` for `…/chart.png`)
 * wins over one that holds it as the start of a longer URL.
 */
function lineOf(lines: SourceLines, text: string[], url: string, asset: string | undefined): number | undefined {
  const candidates = [asset, url, safeDecode(url), url.replace(/\/$/, '')].filter((candidate): candidate is string => !!candidate);
  for (const candidate of candidates) {
    const whole = new RegExp(`${candidate.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w/?#%&=+~@:.-])`);
    const index = text.findIndex((line) => whole.test(line));
    if (index !== -1) return index + 1;
  }
  for (const candidate of candidates) {
    const line = lines.lineOf(candidate);
    if (line !== undefined) return line;
  }
  return undefined;
}

function safeDecode(url: string): string | undefined {
  try {
    return decodeURI(url);
  } catch {
    return undefined;
  }
}

/** `example.com` covers example.com and its subdomains; `127.0.0.1:8080` that host and port alone. */
function hostMatches(url: URL, entry: string): boolean {
  const wanted = entry.trim().toLowerCase();
  if (wanted.includes(':')) return url.host.toLowerCase() === wanted;
  const host = url.hostname.toLowerCase();
  return host === wanted || host.endsWith(`.${wanted}`);
}

type Report = (code: string, severity: Diagnostic['severity'], message: string, line?: number) => void;

/**
 * What one URL's answer means. The severities, and why:
 *   error    404/410 and other 4xx (gone for every reader), no such host in DNS, a bad certificate
 *            (browsers stop at a warning page), a redirect loop: none of these mend themselves
 *   warning  5xx (often a passing outage), 401/403/429 (many sites refuse robots, or want a login a
 *            reader has), refused or reset connections and timeouts (down for now, perhaps), a
 *            link that lands on another host, an image not published yet under baseUrl
 *   note     redirects within the same site (http → https, www., a trailing slash), and an image's
 *            redirects wherever they go: fine, said once
 */
function findingsOf(outcome: Outcome, report: Report, notes: string[]): void {
  const { target, result, local } = outcome;
  const { kind, label, line } = target;
  const where = label === target.url ? target.url : `${label} (${target.url})`;
  const redirected = result.failure ? result.hops.length > 0 : result.hops.length > 1;
  const via = redirected ? ` after redirects (${chain(result)})` : '';

  if (local) {
    const status = result.status === undefined ? '' : statusText(result.status);
    const why = result.failure ? result.failure.message : isGood(result) || result.status! >= 300 ? status : `${status}, but not an image`;
    report(`${kind}-unpublished`, 'warning', `${kind} ${label} is not published yet at ${target.url} (${why}): publish the issue's files before sending; the file beside the issue was checked instead`, line);
    return;
  }
  if (result.failure) {
    const failure = result.failure;
    switch (failure.type) {
      case 'timeout':
        report(`${kind}-timeout`, 'warning', `${kind} ${where} timed out${via}: ${failure.message}`, line);
        break;
      case 'tls':
        report(`${kind}-tls`, 'error', `${kind} ${where} has a certificate problem${via}: ${failure.message}; readers' browsers will stop at a warning`, line);
        break;
      case 'redirect-loop':
      case 'too-many-redirects':
        report(`${kind}-redirect-loop`, 'error', `${kind} ${where} never arrives: ${failure.message}`, line);
        break;
      case 'unreachable':
        report(`${kind}-unreachable`, failure.code === 'ENOTFOUND' ? 'error' : 'warning', `${kind} ${where} cannot be reached${via}: ${failure.message}`, line);
        break;
    }
    return;
  }

  const status = result.status!;
  if (status < 200 || status >= 300) {
    if (target.webVersion && (status === 404 || status === 410)) {
      report('link-unpublished', 'warning', `the web version ${target.url} is not published yet (${statusText(status)}): publish it before sending, or "view in browser" leads nowhere`, line);
      return;
    }
    const [severity, advice] = judge(status);
    report(`${kind}-broken`, severity, `${kind} ${where} answers ${statusText(status)}${via}${advice}`, line);
    return;
  }

  if (result.hops.length > 1) {
    const from = new URL(target.url);
    const to = new URL(result.finalUrl);
    if (sameSite(from, to) || kind === 'image') {
      // An image's redirect (to a CDN, say) is the mail client's business, not the reader's: said, not warned.
      const upgrade = from.protocol === 'http:' && to.protocol === 'https:' ? ' (http → https: link to https directly)' : '';
      notes.push(`${label} redirects to ${result.finalUrl}${upgrade}`);
    } else {
      report(
        'link-redirect-host',
        'warning',
        `${kind} ${where} redirects to another host, ${to.host}: ${chain(result)}; link to the final address, since readers and spam filters distrust links that land elsewhere`,
        line,
      );
    }
  }
}

/** The severity of a final status that is not 2xx, with a word of advice. */
function judge(status: number): [Diagnostic['severity'], string] {
  if (status >= 500) return ['warning', ': a server error, perhaps passing; check again before sending'];
  if (status === 401 || status === 403 || status === 407) return ['warning', ': the site may refuse robots like this check, or want a login; open it in a browser (or list its host in preflight.skipHosts)'];
  if (status === 429) return ['warning', ': the site is rate-limiting this check; try again later'];
  if (status >= 400) return ['error', ''];
  return ['warning', ''];
}

/**
 * The same host (hostname and port), give or take `www.`; http://x → https://x is the same site
 * (the URL leaves out both default ports), http://x:8080 → http://x:8081 is not.
 */
function sameSite(a: URL, b: URL): boolean {
  const host = (url: URL) => url.hostname.toLowerCase().replace(/^www\./, '');
  return host(a) === host(b) && a.port === b.port;
}

function chain(result: Probe): string {
  const urls = result.hops.map((hop) => `${hop.url} ${hop.status}`);
  if (result.failure && result.failure.at !== result.hops.at(-1)?.url) urls.push(result.failure.at);
  return urls.join(' → ');
}

function statusText(status: number): string {
  const reason = STATUS_CODES[status];
  return reason ? `${status} ${reason}` : String(status);
}

function imageFindings(target: Target, facts: ImageFacts, report: Report): void {
  const { label, line } = target;
  if (facts.width === undefined || facts.height === undefined) {
    const type = facts.contentType ? ` (Content-Type ${facts.contentType})` : '';
    report('image-unreadable', 'warning', `image ${label} is not an image that could be read${type}: mail clients will show a broken image`, line);
    return;
  }
  if (facts.width > MAX_IMAGE_WIDTH) {
    report(
      'image-too-wide',
      'warning',
      `image ${label} is ${facts.width} px wide (${kb(facts.bytes ?? 0)}): the layout is ${LAYOUT_WIDTH} px, so ${MAX_IMAGE_WIDTH} px (twice, for sharp screens) is enough; resize it to save bytes`,
      line,
    );
  }
  for (const reference of target.references) {
    const width = pixels(reference.width);
    const height = pixels(reference.height);
    if (width === undefined || height === undefined) continue;
    const shown = width / height;
    const real = facts.width / facts.height;
    if (Math.abs(shown - real) / real > ASPECT_TOLERANCE) {
      report('image-aspect', 'warning', `image ${label} is shown at ${width}×${height} but is ${facts.width}×${facts.height}: it will look stretched; fix its width and height`, line);
      break;
    }
  }
}

/** `600` or `600px`; `auto` and percentages say nothing about proportions. */
function pixels(value: string | undefined): number | undefined {
  const match = value === undefined ? null : /^\s*(\d+(?:\.\d+)?)\s*(px)?\s*$/i.exec(value);
  const number = match ? Number(match[1]) : NaN;
  return number > 0 ? number : undefined;
}

/**
 * An image under baseUrl that the server does not have yet, but that is beside the issue: published
 * with the issue later (`digest build` copies it). Its bytes and dimensions are read from the file.
 */
async function localImage(context: PreflightContext, target: Target): Promise<ImageFacts | undefined> {
  if (!target.asset || target.kind !== 'image') return undefined;
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(dirname(resolve(context.issue.file)), target.asset));
  } catch {
    return undefined;
  }
  const facts: ImageFacts = { bytes: bytes.length };
  try {
    const size = imageSize(bytes);
    Object.assign(facts, { width: size.width, height: size.height, format: size.type });
  } catch {
    // Not an image image-size knows: reported as image-unreadable.
  }
  return facts;
}

function describe(facts: ImageFacts): string {
  const size = facts.bytes === undefined ? 'size unknown' : `${facts.truncated ? 'over ' : ''}${kb(facts.bytes)}`;
  return facts.width !== undefined && facts.height !== undefined ? `${size} ${facts.width}×${facts.height}` : size;
}

/** Kilobytes as lint counts them (1 KB = 1000 bytes): `212 KB`, `1.4 MB`. */
export function kb(bytes: number): string {
  if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  if (bytes >= 10_000) return `${Math.round(bytes / 1000)} KB`;
  return `${(bytes / 1000).toFixed(1)} KB`;
}

/**
 * Runs `work` on every item, never more than `limit` at once. The first failure (a stop) keeps the
 * rest from starting; it is thrown once every worker has returned, so nothing runs on afterwards.
 */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = settled.find((outcome) => outcome.status === 'rejected');
  if (failure) throw failure.reason;
}
