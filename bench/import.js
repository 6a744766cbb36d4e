#!/usr/bin/env node
// `digest subscribers import` of N generated rows, side by side with the raw baselines it is measured
// against: csv-parse alone, csv-parse + better-sqlite3 in 10,000-row transactions, and csv-parse +
// pg COPY in 64 KiB chunks. Usage: node bench/import.js [rows] (default 200000); needs `npx tsc -p .`
// first, and PostgreSQL at $DIGEST_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test) for
// the PostgreSQL lines, which are skipped when it cannot be reached. Data goes to a temp folder.
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import Database from 'better-sqlite3';
import pg from 'pg';

const rows = Number(process.argv[2] ?? 200_000);
const pgUrl = process.env.DIGEST_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dir = await mkdtemp(join(tmpdir(), 'digest-bench-'));
const file = join(dir, 'list.csv');
const lines = ['email,name,tags'];
for (let i = 0; i < rows; i++) lines.push(`reader${i}@example.com,Reader ${i},${i % 3 ? 'weekly' : '"weekly,vip"'}`);
await writeFile(file, `${lines.join('\n')}\n`);

const records = () => createReadStream(file).pipe(parse({ bom: true, from_line: 2 }));
const results = [];
async function measure(name, work) {
  const start = process.hrtime.bigint();
  const peak = await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  results.push({ name, seconds: seconds.toFixed(2), 'peak RSS MB': peak ? (peak / 1024).toFixed(0) : '' });
}
/** Runs the CLI in its own process, so its peak memory is its own (GNU time's max RSS, KiB). */
function cli(args) {
  const run = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, 'bin/digest.js', 'subscribers', ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return Number(run.stderr.trim().split('\n').at(-1));
}

await measure('csv-parse alone', async () => {
  let n = 0;
  for await (const _ of records()) n++;
});

await measure('csv-parse + better-sqlite3, 10,000-row transactions', async () => {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE s (email TEXT NOT NULL UNIQUE, name TEXT, tags TEXT)');
  const insert = db.prepare('INSERT INTO s VALUES (?, ?, ?)');
  const batch = db.transaction((items) => { for (const item of items) insert.run(...item); });
  let items = [];
  for await (const record of records()) {
    items.push(record);
    if (items.length === 10_000) { batch(items); items = []; }
  }
  batch(items);
  db.close();
});
await measure('digest subscribers import (SQLite)', async () => cli(['import', file, '--db', `sqlite:${join(dir, 'digest.db')}`, '--json']));

const probe = new pg.Client({ connectionString: pgUrl });
const pgUp = await probe.connect().then(() => true, () => false);
if (pgUp) {
  const schema = `digest_bench_${process.pid}`;
  await probe.query(`CREATE SCHEMA ${schema}`);
  await measure('csv-parse + pg COPY, 64 KiB chunks', async () => {
    await probe.query(`CREATE TABLE ${schema}.s (email TEXT NOT NULL UNIQUE, name TEXT, tags TEXT)`);
    const { from } = await import('pg-copy-streams').catch(() => ({}));
    if (!from) throw new Error('pg-copy-streams is not installed');
    const copy = probe.query(from(`COPY ${schema}.s FROM STDIN (FORMAT csv)`));
    let chunk = '';
    for await (const [email, name, tags] of records()) {
      chunk += `${email},"${name}","${tags.replace(/"/g, '""')}"\n`;
      if (chunk.length >= 65536) { if (!copy.write(chunk)) await new Promise((r) => copy.once('drain', r)); chunk = ''; }
    }
    copy.end(chunk);
    await new Promise((resolve, reject) => copy.on('finish', resolve).on('error', reject));
  }).catch((error) => results.push({ name: 'csv-parse + pg COPY', seconds: `skipped: ${error.message}` }));
  const url = `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  await measure('digest subscribers import (PostgreSQL)', async () => cli(['import', file, '--db', url, '--json']));
  await probe.query(`DROP SCHEMA ${schema} CASCADE`);
  await probe.end();
} else {
  results.push({ name: 'PostgreSQL', seconds: `skipped: ${pgUrl} unreachable` });
}
console.log(`${rows.toLocaleString('en')} rows`);
console.table(results);
await rm(dir, { recursive: true, force: true });
