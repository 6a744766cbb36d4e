/**
 * The compiled CLI as a user runs it: `node bin/digest.js subscribers …` in a child process.
 * Build first (`npm run build`); these tests check the exit codes, the one-line errors, and that
 * --json prints exactly one JSON document on stdout.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { beforeAll, describe, expect, test } from 'vitest';
import { openStore } from '../../src/audience/open.js';
import { runCli, type CliResult } from '../helpers.js';
import { fixture, onEachDatabase, tempDir } from './databases.js';
import { POSTGRES_BATCH, SQLITE_WRITER_BATCH } from '../../src/audience/import.js';

const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'digest.js');

beforeAll(() => {
  // bin/digest.js runs the bundle, so that is what must be newer than the source.
  const compiled = join(root, 'dist', 'bundle', 'index.js');
  const source = join(root, 'src', 'cli', 'subscribers.ts');
  if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs) {
    throw new Error('dist/bundle is missing or older than src/cli/subscribers.ts: run `npm run build` before these tests');
  }
});

type Run = CliResult;

/** `digest subscribers …`, the real executable, with no database URL from this machine's environment. */
function digest(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runCli(['subscribers', ...args], { env });
}

/** Exactly one JSON document on stdout. */
function json(run: Run): any {
  return JSON.parse(run.stdout);
}

onEachDatabase((target) => {
  describe('digest subscribers (the compiled CLI)', () => {
    test('import --json prints the counts and every rejected row, exit 0', async () => {
      const db = await target.fresh();
      const run = await digest(['import', fixture('spectrum', 'invalid_rows.csv'), '--db', db, '--json']);
      expect(run.code).toBe(0);
      expect(json(run)).toEqual({
        imported: 2,
        updated: 0,
        unchanged: 0,
        rejected: [
          { line: 3, reason: expect.any(String) },
          { line: 5, reason: expect.any(String) },
          { line: 6, reason: expect.any(String) },
          { line: 7, reason: expect.any(String) },
        ],
      });
      expect(run.stderr).toContain('invalid_rows.csv:3: rejected the address has no @');
    });

    test('import --strict with a bad row exits 1, changes nothing, still prints one document', async () => {
      const db = await target.fresh();
      const run = await digest(['import', fixture('spectrum', 'invalid_rows.csv'), '--strict', '--db', db, '--json']);
      expect(run.code).toBe(1);
      expect(json(run)).toMatchObject({ imported: 0, rejected: { length: 4 } });
      expect(run.stderr).toMatch(/4 rows rejected, so nothing was imported \(--strict\)/);
      expect(json(await digest(['count', '--db', db, '--json']))).toEqual({ total: 0, subscribed: 0, unsubscribed: 0, bounced: 0, complained: 0, pending: 0 });
    });

    test.each(['no_email_column.csv', 'empty.csv', 'binary.csv', 'missing.csv'])('import of %s: exit 1, one line on stderr, no stack trace', async (name) => {
      const db = await target.fresh();
      const run = await digest(['import', fixture('spectrum', name), '--db', db]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^digest: .*${name.replace('.', '\\.')}`));
      expect(run.stderr).not.toMatch(/\n\s+at /);
    });

    test('an error with --json is one {"error"} document on stdout', async () => {
      const db = await target.fresh();
      const run = await digest(['import', fixture('spectrum', 'binary.csv'), '--db', db, '--json']);
      expect(run.code).toBe(1);
      expect(json(run)).toEqual({ error: { code: 'unreadable-file', message: expect.stringContaining('binary'), file: expect.stringContaining('binary.csv'), line: 1 } });
    });

    test('add, unsubscribe, add again refused, list, count, remove', async () => {
      const db = await target.fresh();
      const added = await digest(['add', ' Ann@Example.com ', '--name', 'Ann', '--tag', 'vip', '--tag', 'early', '--db', db, '--json']);
      expect(added.code).toBe(0);
      expect(json(added)).toMatchObject({ result: 'added', subscriber: { email: 'Ann@Example.com', name: 'Ann', tags: ['vip', 'early'], status: 'subscribed' } });
      expect(json(await digest(['unsubscribe', 'ann@example.com', '--db', db, '--json']))).toEqual({ email: 'Ann@Example.com', status: 'unsubscribed', changed: true });
      const refused = await digest(['add', 'ann@example.com', '--db', db]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^digest: Ann@Example.com is unsubscribed since .*--resubscribe/);
      await digest(['add', 'bob@example.com', '--db', db]);
      const listed = json(await digest(['list', '--db', db, '--json', '--status', 'subscribed']));
      expect(listed.subscribers.map((s: { email: string }) => s.email)).toEqual(['bob@example.com']);
      expect(json(await digest(['count', '--db', db, '--json']))).toEqual({ total: 2, subscribed: 1, unsubscribed: 1, bounced: 0, complained: 0, pending: 0 });
      expect(json(await digest(['count', '--tag', 'vip', '--db', db, '--json']))).toMatchObject({ total: 1 });
      expect(json(await digest(['remove', 'ANN@example.com', '--db', db, '--json']))).toEqual({ erased: true, suppressed: true });
      const back = await digest(['add', 'ann@example.com', '--db', db]);
      expect(back.code).toBe(1);
      expect(back.stderr).toMatch(/removed at their request/);
      const again = await digest(['unsubscribe', 'Ann@example.com', '--db', db, '--json']);
      expect(again.code).toBe(0);
      expect(json(again)).toEqual({ email: 'Ann@example.com', status: 'erased', changed: false });
      expect(json(await digest(['count', '--db', db, '--json']))).toMatchObject({ total: 1 });
    });

    test('list prints one subscriber a line, with line breaks and escape sequences from the file shown as escapes', async () => {
      const db = await target.fresh();
      const file = join(await tempDir(), 'names.csv');
      await writeFile(file, 'email,name\nann@example.com,"Ann\r\nSecond line"\nbob@example.com,"Bob\x1b]0;owned\x07\x1b[2J"\n');
      expect((await digest(['import', file, '--db', db])).code).toBe(0);
      const listed = await digest(['list', '--db', db]);
      expect(listed.stdout).toBe('ann@example.com\tsubscribed\tAnn\\r\\nSecond line\t\nbob@example.com\tsubscribed\tBob\\x1b]0;owned\\x07\\x1b[2J\t\n');
      // The stored name is as it came, and so is --json's.
      expect(json(await digest(['list', '--db', db, '--json'])).subscribers[1].name).toBe('Bob\x1b]0;owned\x07\x1b[2J');
    });

    test('a file of mostly bad rows: --json lists every rejected row in file order, the terminal the first hundred and a count', async () => {
      const db = await target.fresh();
      const rows = ['email,name'];
      for (let i = 0; i < 12_000; i++) rows.push(i % 4000 === 0 ? `good${i}@example.com,Good` : `not-an-address-${i},Bad`);
      const list = join(await tempDir(), 'bad.csv');
      await writeFile(list, `${rows.join('\n')}\n`);
      const run = await digest(['import', list, '--db', db, '--json']);
      expect(run.code).toBe(0);
      const result = json(run);
      expect(result).toMatchObject({ imported: 3, updated: 0, unchanged: 0 });
      expect(result.rejected).toHaveLength(11_997);
      expect(result.rejected[0]).toEqual({ line: 3, reason: 'the address has no @: "not-an-address-1"' });
      expect(result.rejected.at(-1)).toEqual({ line: 12_001, reason: 'the address has no @: "not-an-address-11999"' });
      const lines = result.rejected.map((rejection: { line: number }) => rejection.line);
      expect(lines).toEqual([...lines].sort((a, b) => a - b));
      const shown = run.stderr.trim().split('\n');
      expect(shown).toHaveLength(101);
      expect(shown[0]).toBe(`digest: ${list}:3: rejected the address has no @: "not-an-address-1"`);
      expect(shown[100]).toBe(`digest: ${list}: rejected 11,897 more rows, not shown here (--json lists every one)`);
    });

    test('an invalid address is refused with the reason', async () => {
      const db = await target.fresh();
      const run = await digest(['add', 'ann@localhost', '--db', db]);
      expect(run.code).toBe(1);
      expect(run.stderr.trim()).toBe('digest: cannot add "ann@localhost": the domain has no dot (such as example.com)');
    });

    test('export to a file imports back unchanged, and a CSV file can be listed as the list itself', async () => {
      const db = await target.fresh();
      await digest(['import', fixture('services', 'ghost.csv'), '--db', db]);
      const out = join(await tempDir(), 'out', 'list.csv');
      expect(json(await digest(['export', '--out', out, '--db', db, '--json']))).toEqual({ exported: 3, file: out });
      const copy = await target.fresh();
      expect(json(await digest(['import', out, '--db', copy, '--json']))).toEqual({ imported: 3, updated: 0, unchanged: 0, rejected: [] });
      const again = await digest(['export', '--db', copy]);
      expect(again.stdout).toBe(await readFile(out, 'utf8'));
      expect(json(await digest(['count', '--db', out, '--json']))).toEqual({ total: 3, subscribed: 2, unsubscribed: 1, bounced: 0, complained: 0, pending: 0 });
      const readOnly = await digest(['add', 'x@example.com', '--db', out]);
      expect(readOnly.code).toBe(1);
      expect(readOnly.stderr).toMatch(/CSV list, which can be read but not changed/);
    });

    describe('export then import into a new database gives every name back exactly, and no exported cell starts a formula', () => {
      // [what the name starts with, the name]
      const names: Array<[string, string]> = [
        ['=', '=HYPERLINK("http://evil.example","Ann")'],
        ['+', '+Ann'],
        ['-', '-Ann'],
        ['@', '@Ann'],
        ['a tab', '\tAnn'],
        ['a tab before =', '\t=1+1'],
        ['a carriage return', '\rAnn'],
        ['a carriage return before =', '\r=1+1'],
        ['a space', ' Ann'],
        ['a space before =', ' =1+1'],
        ['a space, and ends with one', ' Ann '],
        ['an apostrophe', "'Ann"],
        ["'=", "'=Ann"],
        ["''=", "''=Ann"],
        ['a letter, and ends with a tab', 'Ann\t'],
      ];
      const email = (at: number) => `r${at}@example.com`;
      let cells: Map<string, string>;
      let back: Map<string, string | null>;

      beforeAll(async () => {
        const db = await target.fresh();
        const store = await openStore(db, { create: true });
        await store.upsert(names.map(([, name], at) => ({ email: email(at), international: false, name })), { source: 'test' });
        await store.close();
        const out = join(await tempDir(), 'export.csv');
        expect((await digest(['export', '--out', out, '--db', db])).code).toBe(0);
        // The cells as a spreadsheet reads them: nothing trimmed.
        const [header, ...rows] = parseCsv(await readFile(out, 'utf8')) as string[][];
        cells = new Map(rows.map((row) => [row[header!.indexOf('email')]!, row[header!.indexOf('name')]!]));
        const copy = await target.fresh();
        const imported = await digest(['import', out, '--db', copy, '--json']);
        expect(json(imported)).toMatchObject({ imported: names.length, rejected: [] });
        const listed = json(await digest(['list', '--db', copy, '--json'])).subscribers as Array<{ email: string; name: string | null }>;
        back = new Map(listed.map((subscriber) => [subscriber.email, subscriber.name]));
      });

      test.each(names.map(([starts, name], at) => [starts, name, at] as const))('a name starting with %s', (_, name, at) => {
        expect(back.get(email(at))).toBe(name);
        // CSV injection (OWASP): a cell starting with = + - @, a tab or a carriage return runs as a formula.
        expect(cells.get(email(at))).not.toMatch(/^[=+\-@\t\r]/);
      });
    });

    test('the database comes from DIGEST_DATABASE_URL when --db is not given', async () => {
      const db = await target.fresh();
      await digest(['add', 'env@example.com'], { DIGEST_DATABASE_URL: db });
      expect(json(await digest(['count', '--json', '--db', db]))).toMatchObject({ total: 1 });
    });

    test('processes opening a new database at the same moment all succeed', async () => {
      const db = await target.fresh();
      const runs = await Promise.all(Array.from({ length: 4 }, (_, i) => digest(['add', `p${i}@example.com`, '--db', db, '--json'])));
      for (const run of runs) expect(run.code, run.stderr).toBe(0);
      expect(json(await digest(['count', '--db', db, '--json']))).toMatchObject({ total: 4 });
    });

    test('an import killed mid-way leaves the store consistent, and rerunning it finishes without duplicates', async () => {
      const db = await target.fresh();
      // Whole transactions only: a multiple of the batch size the command commits on this database
      // (on SQLite it writes on a thread of its own).
      const batch = target.kind === 'sqlite' ? SQLITE_WRITER_BATCH : POSTGRES_BATCH;
      // Several batches, so that the kill lands mid-way.
      const total = Math.max(60_000, 3 * batch);
      const rows = Array.from({ length: total }, (_, i) => `k${i}@example.com,Name ${i}`);
      const list = join(await tempDir(), 'big.csv');
      await writeFile(list, `email,name\n${rows.join('\n')}\n`);
      const child = spawn(process.execPath, [bin, 'subscribers', 'import', list, '--db', db], { stdio: 'ignore' });
      // Listened for at once: should the import finish before the kill, its close has been seen.
      const closed = new Promise((resolve) => child.on('close', resolve));
      // Kill it once the first batches are in, whatever the machine's speed.
      for (let waited = 0; waited < 20_000; waited += 50) {
        const counted = await digest(['count', '--db', db, '--json']);
        if (counted.code === 0 && json(counted).total > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill('SIGKILL');
      await closed;
      const partial = json(await digest(['count', '--db', db, '--json'])).total;
      expect(partial % batch === 0 || partial === total).toBe(true);
      const rerun = json(await digest(['import', list, '--db', db, '--json']));
      expect(rerun.imported + rerun.unchanged).toBe(total);
      expect(rerun.imported).toBe(total - partial);
      expect(json(await digest(['count', '--db', db, '--json']))).toMatchObject({ total });
    }, 60_000);
  });
});

describe('digest --help', () => {
  test('lists the subscribers command without loading a database driver', async () => {
    const run = await new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, [bin, 'subscribers', '--help']);
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr: '' }));
    });
    expect(run.stdout).toMatch(/import \[options\] <file>/);
    expect(run.stdout).toMatch(/count/);
  });
});
