import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs.js';
import type { Probe } from './probe.js';

const VERSION = 1;
export const CACHE_FILE = 'links.json';

interface CacheFile {
  version: number;
  entries: Record<string, Probe>;
}

/**
 * The answers of earlier runs, one JSON file in the preflight's cache folder, keyed by URL. Only good
 * answers are kept (a 2xx at the end of its redirects, an image's size and dimensions with it), for
 * `cacheHours`: a failure is asked again on every run, so that a link fixed on the server, or an image
 * published since, is seen at once. An entry for a link does not answer for the same URL as an image
 * (that needs the bytes); an image's does for a link. The file is written whole and atomically; one
 * that cannot be read is started afresh.
 */
export class LinkCache {
  private constructor(
    private readonly path: string,
    private readonly lifetimeMs: number,
    private readonly entries: Map<string, Probe>,
  ) {}

  static async open(folder: string, hours: number): Promise<LinkCache> {
    const path = join(folder, CACHE_FILE);
    const entries = new Map<string, Probe>();
    const lifetimeMs = hours * 3_600_000;
    if (lifetimeMs > 0) {
      try {
        const file = JSON.parse(await readFile(path, 'utf8')) as CacheFile;
        if (file?.version === VERSION && file.entries && typeof file.entries === 'object') {
          for (const [url, entry] of Object.entries(file.entries)) if (entry && typeof entry.checkedAt === 'number') entries.set(url, entry);
        }
      } catch {
        // No cache yet, or one from another version or half-written by hand: start empty.
      }
    }
    return new LinkCache(path, lifetimeMs, entries);
  }

  /** A fresh good answer for this URL, asked as this kind, or undefined. */
  get(url: string, kind: Probe['kind'], now = Date.now()): Probe | undefined {
    const entry = this.entries.get(url);
    if (!entry || now - entry.checkedAt >= this.lifetimeMs || now < entry.checkedAt) return undefined;
    if (kind === 'image' && entry.kind !== 'image') return undefined;
    return entry;
  }

  /** Keeps a good answer; forgets the URL on any other, so a stale good answer never hides a new failure. */
  put(result: Probe): void {
    if (isGood(result)) this.entries.set(result.url, result);
    else this.entries.delete(result.url);
  }

  /** Writes the live entries (expired ones dropped) when there is a lifetime at all. */
  async save(now = Date.now()): Promise<void> {
    if (this.lifetimeMs <= 0) return;
    const entries: Record<string, Probe> = {};
    for (const [url, entry] of this.entries) if (now - entry.checkedAt < this.lifetimeMs) entries[url] = entry;
    await writeFileAtomic(this.path, `${JSON.stringify({ version: VERSION, entries } satisfies CacheFile)}\n`);
  }
}

/** Worth keeping: a final 2xx with nothing failed on the way, and for an image, dimensions read from its bytes. */
export function isGood(result: Probe): boolean {
  if (result.failure || result.status === undefined || result.status < 200 || result.status >= 300) return false;
  return result.kind !== 'image' || result.image?.width !== undefined;
}
