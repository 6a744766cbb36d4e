import { loadIssue } from '../issue/load.js';

/**
 * The issues whose send_at has passed, oldest first. Issues without send_at are never due: they
 * go out only when sent by name. A broken issue stops nothing but itself.
 */
export async function dueIssues(files: string[], now: Date, onError: (file: string, error: unknown) => void): Promise<string[]> {
  const due: { file: string; at: number }[] = [];
  for (const file of files) {
    try {
      const issue = await loadIssue(file);
      if (!issue.meta.send_at) continue;
      const at = Date.parse(issue.meta.send_at);
      if (at <= now.getTime()) due.push({ file, at });
    } catch (error) {
      onError(file, error);
    }
  }
  return due.sort((a, b) => a.at - b.at).map((entry) => entry.file);
}
