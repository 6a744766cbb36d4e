import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { ResolvedConfig } from './config.js';
import { UserError, isUserError } from './errors.js';
import { writeFileAtomic } from './fs.js';
import type { Diagnostic } from './issue/diagnostic.js';
import { loadIssue } from './issue/load.js';
import { renderIssue, TemplateCache, type Edition } from './render/index.js';
import { clickKey } from './tracking/token.js';

/** Where one issue's outputs go: a folder named by its slug. */
export function editionPaths(outDir: string, slug: string) {
  const folder = join(outDir, slug);
  return {
    folder,
    html: join(folder, 'email.html'),
    text: join(folder, 'email.txt'),
    web: join(folder, 'web.html'),
    mjml: join(folder, 'email.mjml'),
    manifest: join(folder, 'edition.json'),
  };
}

export interface BuildOutcome {
  file: string;
  slug?: string;
  edition?: Edition;
  /** Set when the issue could not be built at all; nothing was written for it. */
  failure?: Diagnostic;
  /** The error behind a failure, for --debug. */
  error?: Error;
  /** Unset for a failure, and for an edition with an error diagnostic (see `blocking`). */
  written?: ReturnType<typeof editionPaths>;
}

/** The issue files to build: those named, or every `.md` in the issues folder. */
export async function issueFiles(files: string[], config: ResolvedConfig): Promise<string[]> {
  if (files.length) return files;
  const folder = config.issuesDir;
  if (!existsSync(folder)) throw new UserError(`no issues folder at ${shown(folder)}: name the issue files, or run digest init`);
  const found = (await readdir(folder)).filter((name) => name.endsWith('.md')).sort();
  if (!found.length) throw new UserError(`no .md issues in ${shown(folder)}`);
  return found.map((name) => shown(join(folder, name)));
}

/**
 * Loads and renders every issue, then (unless `write` is false, as for `digest check`) writes
 * them. One bad issue does not stop the others; its outputs are not touched. An issue that
 * renders but has an error diagnostic (a clipped email, a merge field that cannot be filled) is
 * as bad as one that does not: it is rendered, so its diagnostics can be reported, but not written. `rendered` is told
 * when the last issue is rendered, before any writing: the CLI ends mjml's worker then, while the
 * files are written.
 */
export async function buildIssues(
  files: string[],
  config: ResolvedConfig,
  options: { outDir?: string; write: boolean; rendered?: () => void },
): Promise<BuildOutcome[]> {
  const templates = new TemplateCache();
  const outDir = options.outDir ?? config.outDir;
  const slugs = new Map<string, string>();
  const outcomes: BuildOutcome[] = [];
  const secret = trackingSecret(config, options.write);

  for (const file of files) {
    try {
      const issue = await loadIssue(file);
      const earlier = slugs.get(issue.meta.slug);
      if (earlier) throw new UserError(`slug "${issue.meta.slug}" is already used by ${earlier}: set slug: to tell them apart`, { file, code: 'duplicate-slug' });
      slugs.set(issue.meta.slug, file);
      outcomes.push({ file, slug: issue.meta.slug, edition: await renderIssue(issue, config, templates, { secret }) });
    } catch (error) {
      if (!isUserError(error)) throw error;
      outcomes.push(failed(file, error));
    }
  }
  options.rendered?.();
  if (!options.write) return outcomes;
  for (const [index, outcome] of outcomes.entries()) {
    if (!outcome.edition || blocking(outcome).length) continue;
    try {
      outcome.written = await writeEdition(outDir, outcome.edition);
    } catch (error) {
      if (!isUserError(error)) throw error;
      outcomes[index] = failed(outcome.file, error);
    }
  }
  return outcomes;
}

/**
 * The secret that seals tracked links. A build writes links readers will click: without
 * DIGEST_SECRET it stops before the first issue, in one line. A check writes nothing: its links are
 * sealed with a throwaway key, so that the sizes it reports are those of the real email.
 */
function trackingSecret(config: ResolvedConfig, write: boolean): string | undefined {
  const secret = process.env.DIGEST_SECRET;
  if (!config.tracking.clicks) return secret;
  if (write) {
    clickKey(secret);
    return secret;
  }
  return secret && secret.length >= 32 ? secret : randomBytes(32).toString('hex');
}

/**
 * What stops an issue from being written: its failure, or its error diagnostics. `digest check`
 * fails on the same, so that an issue check rejects is never written by build.
 */
export function blocking(outcome: BuildOutcome): Diagnostic[] {
  if (outcome.failure) return [outcome.failure];
  return (outcome.edition?.diagnostics ?? []).filter((diagnostic) => diagnostic.severity === 'error');
}

function failed(file: string, error: UserError): BuildOutcome {
  return { file, error, failure: { code: error.code, severity: 'error', message: error.message, file: error.file ?? file, line: error.line } };
}

/** All parts are rendered before the first is written; each write is atomic. */
async function writeEdition(outDir: string, edition: Edition) {
  const paths = editionPaths(outDir, edition.meta.slug);
  const manifest = {
    slug: edition.meta.slug,
    title: edition.meta.title,
    subject: edition.subject,
    preheader: edition.preheader,
    date: edition.meta.date,
    send_at: edition.meta.send_at ?? null,
    audience: edition.meta.audience,
    author: edition.meta.author ?? null,
  };
  // Side by side, so that their flushes to disk overlap.
  await Promise.all([
    writeFileAtomic(paths.mjml, edition.mjml),
    writeFileAtomic(paths.text, edition.text),
    writeFileAtomic(paths.web, edition.web),
    writeFileAtomic(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`),
  ]);
  // The email itself last: its presence means the rest is there too.
  await writeFileAtomic(paths.html, edition.html);
  return paths;
}

export function shown(path: string): string {
  const nearer = relative(process.cwd(), path);
  return nearer && !nearer.startsWith('..') ? nearer : path;
}
