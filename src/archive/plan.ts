import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ResolvedConfig } from '../config.js';
import { assetSource, scanEditions, siteAssets, type BuiltEdition } from './editions.js';
import { atomFeed, indexPage, issuePath } from './pages.js';

/** One file of the site: its bytes, or a file to copy as it is. */
export type SiteFile = { kind: 'text'; data: string } | { kind: 'copy'; from: string };

/**
 * The whole site, path (relative, with `/`) → file. `digest archive` writes it to a folder;
 * `digest serve` answers from it directly, so both publish the same bytes.
 */
export interface SitePlan {
  files: Map<string, SiteFile>;
  editions: BuiltEdition[];
  held: BuiltEdition[];
  /** Images referenced but not found, unreadable editions. */
  warnings: string[];
}

export const FEED = 'feed.xml';

export async function planSite(config: ResolvedConfig, options: { now?: Date } = {}): Promise<SitePlan> {
  const scan = await scanEditions(config.outDir, options.now);
  const files = new Map<string, SiteFile>();
  const warnings = [...scan.problems];
  files.set('index.html', { kind: 'text', data: indexPage(config, scan.editions) });
  files.set(FEED, { kind: 'text', data: atomFeed(config, scan.editions) });
  for (const edition of scan.editions) {
    files.set(`${issuePath(edition.slug)}index.html`, { kind: 'copy', from: edition.web });
    for (const asset of siteAssets(await readFile(edition.web, 'utf8'), config.baseUrl)) {
      if (files.has(asset)) continue;
      const from = assetSource(config.issuesDir, asset);
      if (existsSync(from)) files.set(asset, { kind: 'copy', from });
      else warnings.push(`${edition.slug}: image ${asset} not found at ${from}; it will not load from the archive`);
    }
  }
  return { files, editions: scan.editions, held: scan.held, warnings };
}
