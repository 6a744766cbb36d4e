import { relative } from 'node:path';
import type { BuildOutcome } from '../build.js';
import { locate } from '../errors.js';
import type { Diagnostic } from '../issue/diagnostic.js';

/** Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function paint(stream: NodeJS.WriteStream) {
  const on = Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  const wrap = (code: number) => (text: string) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);
  return { red: wrap(31), yellow: wrap(33), green: wrap(32), dim: wrap(2), bold: wrap(1) };
}

/**
 * Text from a list or a server, made safe to print one record a line: line breaks, tabs and the
 * other control characters (an escape sequence could rewrite the terminal) shown as escapes.
 */
export function visible(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (char) => controlNames[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const controlNames: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `issues/x.md:12: warning insecure-link: http://… is not https` */
export function formatDiagnostic(diagnostic: Diagnostic, stream: NodeJS.WriteStream): string {
  const colour = paint(stream);
  const label = diagnostic.severity === 'error' ? colour.red('error') : colour.yellow('warning');
  return `${locate(diagnostic.file, diagnostic.line)}${label} ${colour.dim(diagnostic.code)}: ${diagnostic.message}`;
}

/** A diagnostic as `--json` carries it. */
export function diagnosticJson(diagnostic: Diagnostic) {
  const { code, severity, message, line } = diagnostic;
  return line === undefined ? { code, severity, message } : { code, severity, message, line };
}

export function allDiagnostics(outcome: BuildOutcome): Diagnostic[] {
  return outcome.failure ? [outcome.failure] : (outcome.edition?.diagnostics ?? []);
}

export function kilobytes(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} KB`;
}

export function shortPath(path: string): string {
  const nearer = relative(process.cwd(), path);
  return nearer && !nearer.startsWith('..') ? nearer : path;
}

/** Prints one JSON document on stdout, the only thing `--json` puts there. */
export function printJson(document: unknown): void {
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}
