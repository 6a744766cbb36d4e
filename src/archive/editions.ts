import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { editionPaths } from '../build.js';

/** What `digest build` wrote for one issue (edition.json), as the archive needs it. */
export interface BuiltEdition {
  slug: string;
  title: string;
  subject: string;
  /** The summary shown in the index and the feed. */
  preheader: string;
  /** `YYYY-MM-DD` */
  date: string;
  sendAt: string | null;
  author: string | null;
  /** The web version's file. */
  web: string;
  /** When it becomes public: send_at, else the start of its date (UTC). */
  publishedAt: Date;
}

export interface ScanResult {
  /** Public now, newest first. */
  editions: BuiltEdition[];
  /** Built but scheduled for later: not published until their send_at (or date) has passed. */
  held: BuiltEdition[];
  /** Folders that look like editions but cannot be read. */
  problems: string[];
}

/** A slug is one path segment that is safe in a URL and a file name. */
export const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Reads every edition in the build folder. An issue whose send_at (or, without one, its date) is
 * still ahead is held back: a scheduled issue must not appear on the web before it reaches inboxes.
 */
export async function scanEditions(outDir: string, now: Date = new Date()): Promise<ScanResult> {
  const result: ScanResult = { editions: [], held: [], problems: [] };
  if (!existsSync(outDir)) return result;
  const names = (await readdir(outDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  for (const name of names.sort()) {
    const paths = editionPaths(outDir, name);
    if (!existsSync(paths.manifest)) continue;
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(await readFile(paths.manifest, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      result.problems.push(`${paths.manifest}: cannot be read (${(error as Error).message})`);
      continue;
    }
    const text = (key: string) => (typeof manifest[key] === 'string' ? (manifest[key] as string) : null);
    const slug = text('slug');
    const title = text('title');
    const date = text('date');
    if (slug !== name || !SLUG.test(name) || !title || !date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
      result.problems.push(`${paths.manifest}: not an edition written by digest build (slug, title or date missing or wrong)`);
      continue;
    }
    if (!existsSync(paths.web)) {
      result.problems.push(`${paths.web} is missing: rebuild the issue`);
      continue;
    }
    const sendAt = text('send_at');
    const published = sendAt ? new Date(sendAt) : new Date(`${date}T00:00:00Z`);
    const edition: BuiltEdition = {
      slug,
      title,
      subject: text('subject') ?? title,
      preheader: text('preheader') ?? '',
      date,
      sendAt,
      author: text('author'),
      web: paths.web,
      publishedAt: Number.isNaN(published.getTime()) ? new Date(`${date}T00:00:00Z`) : published,
    };
    (edition.publishedAt.getTime() <= now.getTime() ? result.editions : result.held).push(edition);
  }
  result.editions.sort((a, b) => b.publishedAt.getTime() - a.publishedAt.getTime() || b.date.localeCompare(a.date) || b.slug.localeCompare(a.slug));
  return result;
}

/**
 * The images a web version loads from the published site: `src` values under baseUrl, as build
 * resolved an issue's relative image paths (`images/map.png` → `${baseUrl}/images/map.png`).
 * Returned as paths relative to the site's root.
 */
export function siteAssets(html: string, baseUrl: string | undefined): string[] {
  if (!baseUrl) return [];
  const base = `${baseUrl.replace(/\/+$/, '')}/`;
  const found = new Set<string>();
  for (const match of html.matchAll(/\ssrc\s*=\s*"([^"]*)"/gi)) {
    const value = match[1]!.replace(/&amp;/g, '&');
    if (!value.startsWith(base)) continue;
    let path: string;
    try {
      path = decodeURIComponent(new URL(value).pathname.slice(new URL(base).pathname.length));
    } catch {
      continue;
    }
    const segments = path.split('/');
    if (!path || segments.some((segment) => segment === '' || segment === '.' || segment === '..' || segment.includes('\\'))) continue;
    if (segments[0] === 'issues' || path === 'index.html' || path === 'feed.xml') continue;
    found.add(path);
  }
  return [...found];
}

export function assetSource(issuesDir: string, path: string): string {
  return join(issuesDir, ...path.split('/'));
}
