import { existsSync } from 'node:fs';
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { ResolvedConfig } from '../config.js';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../fs.js';
import { planSite, type SitePlan } from './plan.js';

export { planSite, type SitePlan, type SiteFile } from './plan.js';

/** Lists what the last run wrote, so files of issues no longer built can be removed, and nothing else. */
export const MANIFEST = '.digest-archive.json';

export interface ArchiveResult {
  out: string;
  issues: string[];
  held: { slug: string; publishedAt: string }[];
  written: string[];
  unchanged: number;
  removed: string[];
  warnings: string[];
}

/**
 * Writes the static site: index.html, issues/<slug>/index.html, feed.xml and the images the issues
 * use. Incremental: a file whose bytes are already there is not touched. Every write is atomic, so
 * a static host serving the folder meanwhile never sees half a page.
 */
export async function writeArchive(config: ResolvedConfig, options: { out: string; now?: Date }): Promise<ArchiveResult> {
  const out = resolve(options.out);
  const build = resolve(config.outDir);
  if (out === build) throw new UserError(`--out ${out} is the build folder itself: choose another folder for the archive`, { code: 'invalid-flags' });
  const plan: SitePlan = await planSite(config, { now: options.now });
  const result: ArchiveResult = {
    out,
    issues: plan.editions.map((edition) => edition.slug),
    held: plan.held.map((edition) => ({ slug: edition.slug, publishedAt: edition.publishedAt.toISOString() })),
    written: [],
    unchanged: 0,
    removed: [],
    warnings: plan.warnings,
  };

  for (const [path, file] of plan.files) {
    const target = join(out, ...path.split('/'));
    const bytes = file.kind === 'text' ? Buffer.from(file.data, 'utf8') : await readFile(file.from);
    if (await sameBytes(target, bytes)) {
      result.unchanged++;
      continue;
    }
    await writeFileAtomic(target, bytes);
    result.written.push(path);
  }

  const manifestFile = join(out, MANIFEST);
  const before = await previousFiles(manifestFile);
  for (const path of before) {
    if (plan.files.has(path)) continue;
    const target = join(out, ...path.split('/'));
    if (!target.startsWith(out + sep)) continue;
    await rm(target, { force: true });
    await removeEmptyFolders(dirname(target), out);
    result.removed.push(path);
  }
  const listed = JSON.stringify({ generator: 'digest archive', files: [...plan.files.keys()].sort() }, null, 2) + '\n';
  if (!(await sameBytes(manifestFile, Buffer.from(listed)))) await writeFileAtomic(manifestFile, listed);
  return result;
}

async function sameBytes(path: string, bytes: Buffer): Promise<boolean> {
  try {
    return (await readFile(path)).equals(bytes);
  } catch {
    return false;
  }
}

async function previousFiles(manifest: string): Promise<string[]> {
  if (!existsSync(manifest)) return [];
  try {
    const parsed = JSON.parse(await readFile(manifest, 'utf8')) as { files?: unknown };
    return Array.isArray(parsed.files) ? parsed.files.filter((file): file is string => typeof file === 'string' && !file.split('/').includes('..')) : [];
  } catch {
    return [];
  }
}

async function removeEmptyFolders(folder: string, root: string): Promise<void> {
  while (folder.startsWith(root + sep)) {
    try {
      if ((await readdir(folder)).length) return;
      await rmdir(folder);
    } catch {
      return;
    }
    folder = dirname(folder);
  }
}
