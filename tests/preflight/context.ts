import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { parseIssue } from '../../src/issue/load.js';
import type { PreflightContext } from '../../src/preflight/index.js';
import { renderIssue } from '../../src/render/index.js';
import { repo, tempProject } from '../helpers.js';

/** The repo's own sample: its config and its first issue, as `digest check --preflight` would see them. */
export const sampleConfigText = readFileSync(join(repo, 'digest.config.yaml'), 'utf8');
export const sampleIssueText = readFileSync(join(repo, 'issues', '2024-03-08-weekly.md'), 'utf8');

/** A preflight context for an issue in a project of its own (call at the top of a file: tempProject removes it after). */
export async function contextFor(issue: string, config: string = sampleConfigText, files: Record<string, string> = {}): Promise<PreflightContext> {
  const root = tempProject({ 'issues/issue.md': issue, ...files }, config);
  const file = join(root, 'issues', 'issue.md');
  const source = parseIssue(issue, file);
  const resolved = await loadConfig({ cwd: root });
  const edition = await renderIssue(source, resolved);
  return { issue: source, source: issue, edition, config: resolved, offline: true, cacheDir: join(root, '.cache') };
}
