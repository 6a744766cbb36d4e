#!/usr/bin/env node
// `digest subscribers import` of generated rows against raw imports by the libraries of issue 3, in
// the same run: csv-parse + better-sqlite3 inserts in 10,000-row transactions for SQLite, csv-parse
// + pg COPY in 64 KiB chunks for PostgreSQL; each writing either every subscriber as digest stores
// it into digest's own table (the judged baseline) or the file's three columns into a table of three
// (shown for comparison). On PostgreSQL the server alone is timed too: digest's rows as COPY text,
// streamed from a file. Every side runs in a process of its own, in turn, so that each pays Node's
// start-up and has its own peak memory (GNU time's max RSS).
//
// From the bench runner: run({ quick }) → rows for the table (quick: 20,000 rows, 2 runs; else
// 1,000,000 rows, 5 runs: the load of a shared machine comes and goes over a run).
// Alone: node bench/import.js [rows] [runs] prints the same figures.
// Needs `npm run build` first (the CLI runs dist/bundle), and PostgreSQL at $DIGEST_TEST_PG_URL (default
// postgres://postgres@127.0.0.1:5432/test); without it the PostgreSQL row is left out, said on stderr.
// Data goes to a temporary folder and a throwaway schema per run, both deleted afterwards.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { parse } from 'csv-parse';
import pg from 'pg';
import { row, summarise } from './lib.js';
import { createSchema, dropSchema, pgUnreachable, pgUrl, withSchema } from './postgres.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);
const bin = join(root, 'bin', 'digest.js');
const TARGET = 1.25;
const MEMORY_LIMIT_MB = 150;

export async function run({ quick, rows: count = quick ? 20_000 : 1_000_000, runs = quick ? 2 : 5 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'digest-bench-import-'));
  try {
    const file = join(dir, 'list.csv');
    writeList(file, count);
    const rows = [];
    const n = count.toLocaleString('en');

    let index = 0;
    const sqlite = compare(runs, {
      ours: () => [process.execPath, bin, 'subscribers', 'import', file, '--db', `sqlite:${join(dir, `digest-${index++}.db`)}`, '--json'],
      narrow: () => [process.execPath, self, '--baseline', 'sqlite', file, join(dir, `raw-${index++}.db`)],
      same: () => {
        const db = join(dir, `same-${index++}.db`);
        prepareDigestTable(`sqlite:${db}`);
        return [process.execPath, self, '--baseline', 'sqlite-same', file, db];
      },
    });
    rows.push(...judge(`\`digest subscribers import\` ${n} rows into SQLite`, sqlite, 'better-sqlite3, one row a statement, 10,000-row transactions'));

    const unreachable = await pgUnreachable();
    if (unreachable) {
      process.stderr.write(`import bench: PostgreSQL row left out: ${pgUrl} is unreachable (${unreachable})\n`);
    } else {
      const schemas = [];
      const schema = () => {
        const name = `digest_bench_${process.pid}_${schemas.length}`;
        schemas.push(name);
        createSchema(name);
        return name;
      };
      try {
        // What the server alone needs for digest's rows: the rows of one digest import, dumped as
        // COPY's text, streamed back from a file into an empty table (the client does nothing but read).
        const dump = join(dir, 'subscribers.copy');
        const scratch = withSchema(pgUrl, schema());
        timeChild([process.execPath, bin, 'subscribers', 'import', file, '--db', scratch, '--json']);
        timeChild([process.execPath, self, '--dump', scratch, dump]);
        const postgres = compare(runs, {
          ours: () => [process.execPath, bin, 'subscribers', 'import', file, '--db', withSchema(pgUrl, schema()), '--json'],
          narrow: () => [process.execPath, self, '--baseline', 'postgres', file, pgUrl, schema()],
          same: () => {
            const name = schema();
            prepareDigestTable(withSchema(pgUrl, name));
            return [process.execPath, self, '--baseline', 'postgres-same', file, pgUrl, name];
          },
          server: () => {
            const name = schema();
            prepareDigestTable(withSchema(pgUrl, name));
            return [process.execPath, self, '--baseline', 'postgres-server', dump, pgUrl, name];
          },
        });
        rows.push(...judge('same into PostgreSQL', postgres, 'COPY in 64 KiB chunks'));
      } finally {
        for (const name of schemas) dropSchema(name);
      }
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The two rows of one database. The goal is judged against the raw libraries doing the same job:
 * writing each subscriber as digest stores it (address and key, name, status, tags, attributes,
 * consent and times) into the same table. The narrower baseline, the file's three columns into a
 * table of three, is shown beside it: the difference between the two is what storing a whole
 * subscriber costs the database, whoever writes it.
 */
function judge(figure, { ours, narrow, same, server, memory }, how) {
  const alone = server
    ? `; the server alone, given digest's rows as COPY text from a file, takes ${server.median.toFixed(2)} s (${(server.median / narrow.median).toFixed(2)}× this baseline)`
    : '';
  return [
    row({
      figure,
      unit: 's',
      ours,
      baseline: same,
      baselineName: `csv-parse + ${how}: the same subscriber rows into digest's own table`,
      target: TARGET,
      note: memoryNote(memory),
    }),
    row({
      figure: '(the same, against a three-column table)',
      unit: 's',
      ours,
      baseline: narrow,
      baselineName: `csv-parse + ${how}: the file's three columns into a table of three`,
      judged: false,
      note: `for comparison, not judged: the same rows as email, name and tags alone${alone}`,
    }),
  ];
}

/** The list: an address, a name and tags, a third of them quoted with a comma inside. */
function writeList(file, count) {
  const lines = ['email,name,tags'];
  for (let i = 0; i < count; i++) lines.push(`reader${i}@example.com,Reader ${i},${i % 3 ? 'weekly' : '"weekly,vip"'}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/**
 * Runs ours and each baseline in turn, the order rotating from run to run so that none always goes
 * first, each command made fresh for its run. Returns a summary of seconds per side, and of peak
 * RSS in MB for ours and the judged baseline.
 */
function compare(runs, commands) {
  const sides = Object.keys(commands);
  const times = Object.fromEntries(sides.map((side) => [side, []]));
  const memory = Object.fromEntries(sides.map((side) => [side, []]));
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < sides.length; k++) {
      const side = sides[(i + k) % sides.length];
      const { seconds, megabytes } = timeChild(commands[side]());
      times[side].push(seconds);
      if (megabytes !== undefined) memory[side].push(megabytes);
    }
  }
  const summary = Object.fromEntries(sides.map((side) => [side, summarise(times[side])]));
  const peak = (side) => (memory[side].length ? summarise(memory[side]) : undefined);
  return { ...summary, memory: { ours: peak('ours'), baseline: peak('same') } };
}

const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Wall-clock seconds of one child process, which must succeed, and its peak RSS (GNU time's %M, KiB) in MB. */
function timeChild([command, ...args]) {
  const [program, argv] = gnuTime ? [gnuTime, ['-f', 'maxrss %M', command, ...args]] : [command, args];
  const start = process.hrtime.bigint();
  const result = spawnSync(program, argv, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' }, timeout: 30 * 60_000 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`);
  const kib = /maxrss (\d+)/.exec(result.stderr ?? '')?.[1];
  return { seconds, megabytes: kib === undefined ? undefined : Number(kib) / 1024 };
}

function memoryNote(memory) {
  if (!memory.ours) return 'peak memory not measured (no GNU time at /usr/bin/time)';
  const mb = (s) => `${s.median.toFixed(0)} MB (max ${s.max.toFixed(0)})`;
  const met = memory.ours.max < MEMORY_LIMIT_MB ? 'under' : '**over**';
  return `peak RSS: digest ${mb(memory.ours)}, ${met} the ${MEMORY_LIMIT_MB} MB goal; baseline ${mb(memory.baseline)}`;
}



// ---- the baselines, each run as its own process: node bench/import.js --baseline sqlite|postgres …

const records = (file) => createReadStream(file).pipe(parse({ bom: true, from_line: 2 }));

/** csv-parse + better-sqlite3: each record's values, from `values`, inserted one row a statement, 10,000 rows a transaction. */
function insertInBatches(db, statement, file, values) {
  const insert = db.prepare(statement);
  const batch = db.transaction((items) => {
    for (const item of items) insert.run(item);
  });
  return (async () => {
    let items = [];
    for await (const record of records(file)) {
      items.push(values(record));
      if (items.length === 10_000) {
        batch(items);
        items = [];
      }
    }
    batch(items);
  })();
}

/** csv-parse + COPY … FROM STDIN: each record made a line by `line`, the lines fed in chunks of 64 KiB. */
async function copyInChunks(client, statement, file, line) {
  const { from } = await import('pg-copy-streams');
  const copy = client.query(from(statement));
  const done = finished(copy);
  done.catch(() => {});
  let chunk = '';
  for await (const record of records(file)) {
    chunk += line(record);
    if (chunk.length >= 65_536) {
      if (!copy.write(chunk)) await Promise.race([once(copy, 'drain'), done]);
      chunk = '';
    }
  }
  copy.end(chunk);
  await done;
}

/** The file's three columns into a table of three, one transaction per 10,000 rows. */
async function sqliteBaseline(file, dbFile) {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE s (email TEXT NOT NULL UNIQUE, name TEXT, tags TEXT)');
  await insertInBatches(db, 'INSERT INTO s VALUES (?, ?, ?)', file, (record) => record);
  db.close();
}

/** The file's three columns into a table of three, as CSV. */
async function postgresBaseline(file, url, schema) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE ${schema}.s (email TEXT NOT NULL UNIQUE, name TEXT, tags TEXT)`);
    const quote = (value) => `"${value.replace(/"/g, '""')}"`;
    await copyInChunks(client, `COPY ${schema}.s FROM STDIN (FORMAT csv)`, file, ([email, name, tags]) => `${quote(email)},${quote(name)},${quote(tags)}\n`);
  } finally {
    await client.end();
  }
}

/** An empty database or schema with digest's tables, made by digest itself (its migrations), outside the timing. */
function prepareDigestTable(url) {
  const open = pathToFileURL(join(root, 'dist', 'audience', 'open.js')).href;
  const script = `const { openStore } = await import(${JSON.stringify(open)}); const store = await openStore(${JSON.stringify(url)}, { create: true }); await store.close();`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`preparing ${url} failed: ${result.stderr}`);
}

/**
 * A subscriber of the list as digest stores it, the way a script of one's own would make it: the
 * address trimmed and its lower-cased key, the name, subscribed, the tags cell as a JSON array, no
 * attributes, consent by this import now. In the table's column order.
 */
function subscriberRow([email, name, tags], now) {
  const address = email.trim();
  const list = JSON.stringify(tags.split(',').map((tag) => tag.trim()).filter(Boolean));
  return [address, address.toLowerCase(), name || null, 'subscribed', list, '{}', false, 'import:csv', now, null, null, now, now];
}

/**
 * Every subscriber into digest's own table, one transaction per 10,000 rows, with the settings
 * digest's database has (WAL, synchronous NORMAL).
 */
async function sqliteSameBaseline(file, dbFile) {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const now = new Date().toISOString();
  const columns = 'email, email_key, name, status, tags, attributes, international, consent_source, consent_at, withdrawn_at, withdrawn_how, created_at, updated_at';
  await insertInBatches(db, `INSERT INTO subscribers (${columns}) VALUES (${columns.split(', ').map(() => '?').join(', ')})`, file, (record) => {
    const values = subscriberRow(record, now);
    values[6] = 0;
    return values;
  });
  db.close();
}

/**
 * Every subscriber into digest's own table, in COPY's text format (values escaped only where they
 * hold a backslash, tab or line break). Text rather than CSV, as the faster of the two for these
 * rows (CSV makes the server unquote).
 */
async function postgresSameBaseline(file, url, schema) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const special = /[\\\t\n\r]/;
    const specials = /[\\\t\n\r]/g;
    const escapes = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
    const text = (value) => (value === null ? '\\N' : value === false ? 'f' : special.test(value) ? value.replace(specials, (char) => escapes[char]) : value);
    const now = new Date().toISOString();
    await copyInChunks(client, `COPY ${schema}.subscribers FROM STDIN`, file, (record) => `${subscriberRow(record, now).map(text).join('\t')}\n`);
  } finally {
    await client.end();
  }
}

/** The subscribers of a digest database as COPY's text, into a file: what postgresServer feeds back. */
async function dumpSubscribers(url, out) {
  const { to } = await import('pg-copy-streams');
  const { pipeline } = await import('node:stream/promises');
  const { createWriteStream } = await import('node:fs');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await pipeline(client.query(to('COPY subscribers TO STDOUT')), createWriteStream(out));
  } finally {
    await client.end();
  }
}

/** COPY … FROM STDIN of a file already in COPY's text, in 64 KiB chunks: the server's own share of an import. */
async function postgresServer(dump, url, schema) {
  const { from } = await import('pg-copy-streams');
  const { pipeline } = await import('node:stream/promises');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await pipeline(createReadStream(dump, { highWaterMark: 65_536 }), client.query(from(`COPY ${schema}.subscribers FROM STDIN`)));
  } finally {
    await client.end();
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const [flag, kind, ...rest] = process.argv.slice(2);
  if (flag === '--dump') await dumpSubscribers(kind, process.argv[4]);
  else if (flag === '--baseline') {
    if (kind === 'sqlite') await sqliteBaseline(rest[0], rest[1]);
    else if (kind === 'postgres') await postgresBaseline(rest[0], rest[1], rest[2]);
    else if (kind === 'sqlite-same') await sqliteSameBaseline(rest[0], rest[1]);
    else if (kind === 'postgres-same') await postgresSameBaseline(rest[0], rest[1], rest[2]);
    else if (kind === 'postgres-server') await postgresServer(rest[0], rest[1], rest[2]);
    else throw new Error(`unknown baseline ${kind}`);
  } else {
    const count = Number(process.argv[2] ?? 200_000);
    const runs = Number(process.argv[3] ?? 3);
    const table = await run({ quick: false, rows: count, runs });
    const s = (x) => `${x.median.toFixed(2)} s (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
    console.log(`${count.toLocaleString('en')} rows, ${runs} runs each, alternating`);
    console.table(table.map((r) => ({ figure: r.figure, digest: s(r.ours), baseline: `${r.baselineName}: ${s(r.baseline)}`, ratio: r.ratio.toFixed(2), met: r.met ?? '—' })));
    for (const r of table) if (r.note) console.log(`${r.figure}: ${r.note}`);
  }
}
