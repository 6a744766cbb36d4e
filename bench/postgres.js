// The benchmarks' PostgreSQL: where it is, whether it answers, and throwaway schemas for runs.
// $DIGEST_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test, as in the tests.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = fileURLToPath(new URL('..', import.meta.url));
export const pgUrl = process.env.DIGEST_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Why PostgreSQL cannot be used, or undefined when it answers. */
export async function pgUnreachable() {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error.message;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Schema changes through a short child process, since the timed runs are synchronous. */
function psql(statement) {
  const script = `import pg from 'pg'; const c = new pg.Client(${JSON.stringify(pgUrl)}); await c.connect(); try { await c.query(${JSON.stringify(statement)}); } finally { await c.end(); }`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`${statement} failed: ${result.stderr}`);
}
export const createSchema = (name) => psql(`CREATE SCHEMA ${name}`);
export const dropSchema = (name) => psql(`DROP SCHEMA IF EXISTS ${name} CASCADE`);

/** The URL with every connection's search_path set to the schema. */
export function withSchema(url, schema) {
  return `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}
