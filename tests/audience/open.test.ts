/**
 * A SQLite database that does not exist: made (folder and all) only by what makes a list (import,
 * add, a send to a CSV list), refused by everything else with one line, and never made by the
 * refusal. A mistyped --db must be named, not read as an empty list of 0 readers.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { openSource, openStore } from '../../src/audience/open.js';
import { fixture as projectFixture, runCli, tempProject } from '../helpers.js';
import { tempDir } from './databases.js';

const SECRET = 'a test secret that is certainly long enough';

/** A project with the complete sample issue (send_at long past) and a CSV list of two readers. */
function project(): string {
  return tempProject({
    'issues/week.md': projectFixture('issues', 'complete.md'),
    'readers.csv': 'email,name,tags\nana@example.org,Ana Lima,local\nbo@example.org,Bo Berg,local\n',
  });
}

function digest(args: string[], cwd: string) {
  return runCli(args, { cwd, env: { DIGEST_SECRET: SECRET } });
}

/** A URL into a folder that does not exist either, under a temporary folder that does. */
async function missing(): Promise<{ folder: string; file: string; url: string }> {
  const folder = join(await tempDir(), 'no', 'such', 'folder');
  const file = join(folder, 'x.db');
  return { folder, file, url: `sqlite:${file}` };
}

const refusal = (url: string) => `digest: the SQLite database ${url} does not exist (digest subscribers import or add creates one)\n`;

describe('opening a SQLite database that does not exist', () => {
  test('openStore and openSource refuse it with database-missing and make nothing', async () => {
    const { folder, url } = await missing();
    await expect(openStore(url)).rejects.toMatchObject({ name: 'UserError', code: 'database-missing' });
    await expect(openSource(url)).rejects.toMatchObject({ name: 'UserError', code: 'database-missing' });
    expect(existsSync(folder)).toBe(false);
  });

  test('openStore with create makes the file and its folder; sqlite::memory: needs no file', async () => {
    const { file, url } = await missing();
    await (await openStore(url, { create: true })).close();
    expect(existsSync(file)).toBe(true);
    // Now that it exists, a reader opens it.
    await (await openSource(url)).close();
    const memory = await openSource('sqlite::memory:');
    expect(await memory.count()).toMatchObject({ total: 0 });
    await memory.close();
  });
});

describe('the commands that read a list refuse a missing SQLite file (the compiled CLI)', () => {
  const readers: Array<[string, string[]]> = [
    ['status', ['status']],
    ['status ISSUE', ['status', 'week']],
    ['subscribers list', ['subscribers', 'list']],
    ['subscribers export', ['subscribers', 'export']],
    ['subscribers export --out', ['subscribers', 'export', '--out', 'list.csv']],
    ['subscribers count', ['subscribers', 'count']],
    ['subscribers unsubscribe', ['subscribers', 'unsubscribe', 'ana@example.org']],
    ['subscribers remove', ['subscribers', 'remove', 'ana@example.org']],
    ['serve', ['serve', '--port', '0']],
    ['send ISSUE (to the database list)', ['send', 'issues/week.md', '--yes']],
    ['send --due (to the database list)', ['send', '--due', '--yes']],
  ];

  test.each(readers)('%s: exit 1, one line naming the file, nothing created', async (_, args) => {
    const root = project();
    const before = readdirSync(root).sort();
    const { folder, url } = await missing();
    const run = await digest([...args, '--db', url], root);
    expect(run.stderr).toBe(refusal(url));
    expect(run.code).toBe(1);
    expect(existsSync(folder)).toBe(false);
    expect(readdirSync(root).sort()).toEqual(before);
  });

  test('the default ./digest.db is refused the same way, and --json says so in one document', async () => {
    const root = project();
    const run = await digest(['subscribers', 'count', '--json'], root);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(refusal('sqlite:./digest.db'));
    expect(JSON.parse(run.stdout)).toEqual({ error: { code: 'database-missing', message: expect.stringContaining('sqlite:./digest.db does not exist') } });
    expect(existsSync(join(root, 'digest.db'))).toBe(false);
  });

  test('sqlite::memory: is still an empty list', async () => {
    const run = await digest(['subscribers', 'count', '--json', '--db', 'sqlite::memory:'], project());
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ total: 0 });
  });
});

describe('the commands that make a list create the file and its folder (the compiled CLI)', () => {
  test('subscribers add', async () => {
    const { file, url } = await missing();
    const run = await digest(['subscribers', 'add', 'ana@example.org', '--db', url], project());
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(file)).toBe(true);
  });

  test('subscribers import', async () => {
    const root = project();
    const { file, url } = await missing();
    const run = await digest(['subscribers', 'import', 'readers.csv', '--db', url, '--json'], root);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ imported: 2 });
    expect(existsSync(file)).toBe(true);
  });

  test('send --to LIST.csv, whose database holds only the journal', async () => {
    const root = project();
    const { file, url } = await missing();
    const run = await digest(['send', 'issues/week.md', '--to', 'readers.csv', '--db', url, '--yes', '--json'], root);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ sent: 2 });
    expect(existsSync(file)).toBe(true);
  });

  test('the README main job on a fresh clone: send --due --to LIST.csv makes ./digest.db', async () => {
    const root = project();
    const run = await digest(['send', '--due', '--to', 'readers.csv', '--yes', '--json'], root);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(root, 'digest.db'))).toBe(true);
    // And a second run finds the journal it made: nobody gets a second copy.
    const again = await digest(['send', '--due', '--to', 'readers.csv', '--yes', '--json'], root);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/"alreadySent": ?2/);
  });
});
