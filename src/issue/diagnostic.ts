/**
 * A finding about an issue: a lint rule's or the parser's. `code` is a stable slug (`missing-alt`)
 * that scripts and `--json` readers can rely on.
 */
export interface Diagnostic {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  file: string;
  line?: number;
}
