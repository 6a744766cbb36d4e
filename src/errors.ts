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

/**
 * Failures that come from the machine rather than from digest, said as a user error: another
 * process holding the database, a full disk. Anything else is left to be reported as a bug.
 */
export function explainFailure(error: unknown): UserError | undefined {
  if (error instanceof UserError) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return undefined;
  const known: Record<string, [string, string]> = {
    SQLITE_BUSY: ['the SQLite database is locked: another process has held its write lock for 15 seconds (an import or a send still running?); try again when it is done', 'database-busy'],
    SQLITE_FULL: ['the disk holding the SQLite database is full; nothing of the unfinished transaction was kept', 'disk-full'],
    ENOSPC: ['the disk is full', 'disk-full'],
    SQLITE_READONLY: ['the SQLite database cannot be written (a read-only file or folder)', 'database-read-only'],
    SQLITE_CORRUPT: ['the SQLite database file is damaged (SQLite reports it malformed)', 'database-damaged'],
  };
  const match = known[code] ?? known[code.replace(/_[A-Z]+$/, '')];
  return match ? new UserError(match[0], { code: match[1], cause: error }) : undefined;
}
