import { resolve } from 'node:path';
import { UserError } from '../errors.js';
import { redact } from '../redact.js';

export const DEFAULT_DATABASE_URL = 'sqlite:./digest.db';

/** Where the list lives, from the `--db` URL. */
export type Location =
  | { kind: 'sqlite'; file: string; shown: string }
  | { kind: 'postgres'; url: string; shown: string }
  | { kind: 'csv'; file: string; shown: string };

/** `--db`, else DIGEST_DATABASE_URL, else `sqlite:./digest.db`. */
export function databaseUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.DIGEST_DATABASE_URL || DEFAULT_DATABASE_URL;
}

/**
 * `sqlite:./digest.db`, `sqlite:///abs/path.db`, `sqlite::memory:`, `postgres://user@host/db`, and a
 * CSV list as `csv:list.csv` or just `list.csv` (read-only: it can be listed and sent to).
 */
export function parseLocation(url: string, cwd = process.cwd()): Location {
  const shown = redact(url);
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url, shown };
  if (/^sqlite:/i.test(url)) {
    let path = url.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
    if (path === '') throw new UserError(`the database URL ${shown} names no file (such as sqlite:./digest.db)`, { code: 'invalid-database-url' });
    return { kind: 'sqlite', file: path === ':memory:' ? path : resolve(cwd, path), shown };
  }
  if (/^csv:/i.test(url)) return { kind: 'csv', file: resolve(cwd, url.slice(4)), shown };
  if (/\.csv$/i.test(url)) return { kind: 'csv', file: resolve(cwd, url), shown };
  if (/\.(db|sqlite3?)$/i.test(url) && !url.includes('://')) return { kind: 'sqlite', file: resolve(cwd, url), shown };
  throw new UserError(
    `cannot tell what database ${shown} is: use sqlite:FILE, postgres://… or a .csv file`,
    { code: 'invalid-database-url' },
  );
}

export { redact } from '../redact.js';
