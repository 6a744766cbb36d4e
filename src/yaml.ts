import { LineCounter, parseDocument, isMap, isSeq, type Node } from 'yaml';
import type { z } from 'zod';
import { UserError } from './errors.js';

/**
 * YAML read with positions kept, so that a wrong value can be reported at its line.
 * YAML 1.2 (the `yaml` package) rather than 1.1: `date: 2024-03-08` stays the string the editor
 * wrote instead of becoming a midnight-UTC Date, and `no` stays a word.
 */
export interface LocatedYaml {
  data: unknown;
  /** The 1-based line of the value at `path` in the original file, if it is there. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

/** `firstLine` is the line of the file on which `text` begins (front matter starts on line 2). */
export function parseYaml(text: string, file: string, firstLine = 1): LocatedYaml {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problem = document.errors[0];
  if (problem) {
    const at = lines.linePos(problem.pos[0]);
    const reason = problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    throw new UserError(`invalid YAML: ${reason}`, { file, line: at.line + firstLine - 1, code: 'invalid-yaml' });
  }
  return {
    data: document.toJS() ?? {},
    lineOf(path) {
      // The deepest part of the path that exists: a missing `image.alt` is reported at `image:`.
      let node: unknown = document.contents;
      let found: Node | undefined;
      for (const key of path) {
        if (isMap(node)) {
          const pair = node.items.find((item) => String((item.key as { value?: unknown })?.value) === String(key));
          if (!pair) break;
          found = pair.key as Node;
          node = pair.value;
        } else if (isSeq(node) && typeof key === 'number' && node.items[key]) {
          node = node.items[key];
          found = node as Node;
        } else break;
      }
      const offset = found?.range?.[0];
      return offset === undefined ? undefined : lines.linePos(offset).line + firstLine - 1;
    },
  };
}

/** Checks `located.data` against a schema; the first problem becomes a UserError at its line. */
export function validate<T>(schema: z.ZodType<T>, located: LocatedYaml, file: string, fallbackLine?: number): T {
  const result = schema.safeParse(located.data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
  const line = located.lineOf(path) ?? fallbackLine;
  const name = path.length ? path.join('.') : 'front matter';
  throw new UserError(`${name}: ${issue.message}`, { file, line, code: 'invalid-setting' });
}
