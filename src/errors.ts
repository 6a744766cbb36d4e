/**
 * A mistake in what the user gave us (a file, a flag, a setting), as opposed to a bug in digest.
 * The CLI prints it as one line, `file:line: message`, without a stack trace unless --debug.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  readonly file?: string;
  readonly line?: number;
  /** A stable slug for `--json` readers, as lint diagnostics have (`unknown-directive`). */
  readonly code: string;

  constructor(message: string, where: { file?: string; line?: number; code?: string; cause?: unknown } = {}) {
    super(message, where.cause === undefined ? undefined : { cause: where.cause });
    this.file = where.file;
    this.line = where.line;
    this.code = where.code ?? 'invalid-input';
  }

  /** The one line a user sees: `issues/x.md:3: date must be …`. */
  get located(): string {
    return locate(this.file, this.line) + this.message;
  }
}

export function locate(file?: string, line?: number): string {
  if (!file) return '';
  return line ? `${file}:${line}: ` : `${file}: `;
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}
