// digest send against nodemailer's pool (throughput, to a counting smtp-server sink on 127.0.0.1),
// personalisation against a bare precompiled Handlebars render, and peak memory of a large send.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareCalls, forkSink, row, summarise } from './lib.js';
import { createSchema, dropSchema, pgUnreachable, pgUrl, withSchema } from './postgres.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'digest.js');
const issue = join(root, 'issues', '2024-03-08-weekly.md');
const secret = 'benchmark secret, long enough to seal unsubscribe links';

export async function run({ quick }) {
  const work = mkdtempSync(join(tmpdir(), 'digest-bench-send-'));
  const sink = await startSink();
  try {
    const rows = [await personalise(quick), ...(await throughputAndMemory(quick, work, sink))];
    const unreachable = await pgUnreachable();
    if (unreachable) process.stderr.write(`send bench: PostgreSQL rows left out: ${pgUrl} is unreachable (${unreachable})\n`);
    else rows.push(...(await onPostgres(quick, work, sink)));
    return rows;
  } finally {
    sink.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The journal on PostgreSQL: one process against the pool baseline, as on SQLite; then three
 * processes sharing one send against a server that takes 50 ms to answer each message (as a
 * distant relay does), against one process alone on the same server: how far sending scales out.
 */
async function onPostgres(quick, work, sink) {
  const runs = quick ? 1 : 3;
  const schemas = [];
  const fresh = () => {
    const name = `digest_bench_send_${process.pid}_${schemas.length}`;
    schemas.push(name);
    createSchema(name);
    return withSchema(pgUrl, name);
  };
  const slow = await startSink(['--delay', '50']);
  try {
    const poolRow = againstPool(quick, work, sink, fresh, (readers) => `same, journal on PostgreSQL, ${readers} readers`);
    const shared = quick ? 300 : 3000;
    writeFileSync(join(work, 'shared.csv'), list(shared));
    // Messages a second while sending, first message to last at the server: the senders' start-up
    // (rendering the issue, about a second of CPU each, three at once on two cores) is left out of both.
    const alone = [];
    const three = [];
    const wallAlone = [];
    const wallThree = [];
    await slow.window();
    for (let i = 0; i < runs; i++) {
      wallAlone.push(shared / sendOnce(work, slow.port, join(work, 'shared.csv'), fresh()).seconds);
      alone.push(await slow.window());
      wallThree.push(shared / (await sendInParallel(3, slow.port, join(work, 'shared.csv'), fresh())));
      three.push(await slow.window());
    }
    const wall = summarise(wallThree).median / summarise(wallAlone).median;
    return [
      poolRow,
      row({
        figure: `three \`digest send\` processes sharing one send on PostgreSQL, ${shared.toLocaleString('en')} readers, server answers in 50 ms`,
        unit: 'msg/s',
        ours: summarise(three),
        baseline: summarise(alone),
        baselineName: 'one `digest send` process, same server',
        target: 2.5,
        higherIsBetter: true,
        note: `each process with its default 5 connections; the three claim readers side by side (FOR UPDATE SKIP LOCKED) and each commits its own marks and outcomes; messages a second from the first message the server received to the last; from the first start to the last exit, start-up included, ${summarise(wallThree).median.toFixed(0)} against ${summarise(wallAlone).median.toFixed(0)} msg/s (${wall.toFixed(2)}×)`,
      }),
    ];
  } finally {
    slow.stop();
    for (const name of schemas) dropSchema(name);
  }
}

/** Seconds from starting `count` senders of one issue to the last one's exit. */
function sendInParallel(count, port, listFile, db) {
  const start = process.hrtime.bigint();
  return Promise.all(
    Array.from({ length: count }, () =>
      new Promise((done, fail) => {
        const child = spawn(process.execPath, [bin, 'send', issue, '--to', listFile, '--db', db, '--smtp', `smtp://127.0.0.1:${port}`, '--yes', '--json'], {
          cwd: root,
          env: { ...process.env, DIGEST_SECRET: secret, CI: '1' },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('close', (code) => (code === 0 ? done() : fail(new Error(`digest send failed (${code}): ${stderr}`))));
      }),
    ),
  ).then(() => Number(process.hrtime.bigint() - start) / 1e9);
}

function builtIssue(work) {
  const built = join(work, 'built');
  spawnSync(process.execPath, [bin, 'build', issue, '--out', built], { cwd: root });
  return { html: join(built, '2024-03-08-weekly', 'email.html'), text: join(built, '2024-03-08-weekly', 'email.txt') };
}

async function personalise(quick) {
  const { loadConfig } = await import(join(root, 'dist', 'config.js'));
  const { loadIssue } = await import(join(root, 'dist', 'issue', 'load.js'));
  const { renderIssue } = await import(join(root, 'dist', 'render', 'index.js'));
  const { MessageFactory } = await import(join(root, 'dist', 'delivery', 'message.js'));
  const { unsubscribeKey } = await import(join(root, 'dist', 'delivery', 'unsubscribe.js'));
  const Handlebars = createRequire(join(root, 'package.json'))('handlebars');
  const config = await loadConfig({ cwd: root });
  const edition = await renderIssue(await loadIssue(issue), config);
  const factory = new MessageFactory(edition, { from: config.from, newsletter: config.name, unsubscribeBase: 'https://valleyledger.example/u', key: unsubscribeKey(secret) });
  // The bare baseline: the same HTML, the same one helper, compiled once, rendered per reader.
  const handlebars = Handlebars.create();
  handlebars.registerHelper('default', (value, fallback) => value || fallback);
  const bare = handlebars.compile(edition.html);
  const batch = 1000;
  const batches = quick ? 3 : 100;
  let n = 0;
  const result = await compareCalls(
    batches,
    () => {
      for (let i = 0; i < batch; i++, n++) factory.build({ email: `r${n}@example.org`, name: `Reader ${n}`, attributes: {} }, `r${n}@example.org`);
    },
    () => {
      for (let i = 0; i < batch; i++, n++) Buffer.from(bare({ subscriber: { name: `Reader ${n}`, first_name: 'Reader' }, unsubscribe_url: `https://valleyledger.example/u/${n}` }));
    },
    1,
  );
  const scale = (s) => ({ ...s, median: (s.median * 100) / 1000, min: (s.min * 100) / 1000, max: (s.max * 100) / 1000 });
  return row({
    figure: 'personalise 100,000 messages (HTML + text to bytes)',
    unit: 's',
    ours: scale(result.ours),
    baseline: scale(result.baseline),
    baselineName: 'a precompiled Handlebars render of the same HTML',
    target: 1.5,
    note: `${batches} batches of ${batch}, scaled to 100,000; digest's figure includes the text part, headers, quoted-printable encoding and a sealed unsubscribe token per reader; its message is a list of buffers, the issue's shared pieces referenced rather than copied, which is what makes it cheaper than the bare render`,
  });
}

/** The row of `digest send` (a fresh journal from `database()` each run) against the nodemailer pool, run alternately. */
function againstPool(quick, work, sink, database, figure) {
  const readers = quick ? 300 : 5000;
  const runs = quick ? 1 : 3;
  writeFileSync(join(work, 'list.csv'), list(readers));
  const { html, text } = builtIssue(work);
  const ours = [];
  const baseline = [];
  for (let i = 0; i < runs; i++) {
    ours.push(readers / sendOnce(work, sink.port, join(work, 'list.csv'), database()).seconds);
    baseline.push(readers / timed(process.execPath, [join(root, 'bench', 'pool-baseline.js'), String(sink.port), String(readers), html, text]));
  }
  return row({
    figure: figure(readers.toLocaleString('en')),
    unit: 'msg/s',
    ours: summarise(ours),
    baseline: summarise(baseline),
    baselineName: 'nodemailer pool, 5 connections, same message',
    target: 2.5,
    higherIsBetter: true,
  });
}

async function throughputAndMemory(quick, work, sink) {
  let run = 0;
  const poolRow = againstPool(quick, work, sink, () => `sqlite:${join(work, `run${run++}.db`)}`, (readers) => `\`digest send\` to an smtp-server sink on 127.0.0.1, ${readers} readers, journal on SQLite`);

  // Two sizes, a tenth and the whole: the same peak at both is what "flat" means.
  const big = quick ? 2000 : 100_000;
  const small = big / 10;
  writeFileSync(join(work, 'small.csv'), list(small));
  writeFileSync(join(work, 'big.csv'), list(big));
  const smallPeak = sendOnce(work, sink.port, join(work, 'small.csv'), `sqlite:${join(work, 'small.db')}`).peakKb / 1024;
  const memory = sendOnce(work, sink.port, join(work, 'big.csv'), `sqlite:${join(work, 'big.db')}`);
  const mb = memory.peakKb / 1024;
  return [
    poolRow,
    {
      figure: `same, peak memory at ${big.toLocaleString('en')} readers (SMTP counting sink)`,
      unit: 'MB',
      ours: summarise([mb]),
      baselineName: '—',
      target: 200,
      absolute: true,
      met: mb < 200,
      note: `peak ${smallPeak.toFixed(0)} MB at ${small.toLocaleString('en')} readers and ${mb.toFixed(0)} MB at ${big.toLocaleString('en')} in the same run${quick ? '' : '; for 1,000,000 readers see docs/performance-send-large.md (node bench/send.js --readers 1000000)'}`,
    },
  ];
}

function sendOnce(work, port, listFile, db) {
  const peakFile = join(work, 'peak-rss');
  const start = process.hrtime.bigint();
  const result = spawnSync(
    process.execPath,
    ['--require', join(root, 'bench', 'peak-rss.cjs'), bin, 'send', issue, '--to', listFile, '--db', db, '--smtp', `smtp://127.0.0.1:${port}`, '--yes', '--json'],
    { cwd: root, env: { ...process.env, DIGEST_SECRET: secret, PEAK_RSS_FILE: peakFile, CI: '1' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`digest send failed: ${result.stderr}`);
  return { seconds, peakKb: Number(readFileSync(peakFile, 'utf8')) };
}

function timed(command, args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${args[0]} failed: ${result.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function list(n) {
  const rows = ['email,name'];
  for (let i = 0; i < n; i++) rows.push(`r${i}@example.org,Reader ${i}`);
  return `${rows.join('\n')}\n`;
}

function startSink(args = []) {
  return forkSink(join(root, 'bench', 'sink.js'), args);
}

// Alone: node bench/send.js --readers N — one `digest send` of N readers to the sink (SQLite
// journal), for the memory goal at sizes the suite does not run (a million takes about a quarter
// of an hour). Prints readers, seconds, messages a second and peak RSS, and writes them to
// docs/performance-send-large.md.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv.includes('--readers')) {
  const readers = Number(process.argv[process.argv.indexOf('--readers') + 1]);
  const work = mkdtempSync(join(tmpdir(), 'digest-bench-send-'));
  const sink = await startSink();
  try {
    writeFileSync(join(work, 'list.csv'), list(readers));
    const result = sendOnce(work, sink.port, join(work, 'list.csv'), `sqlite:${join(work, 'large.db')}`);
    const line = `| ${readers.toLocaleString('en')} | ${result.seconds.toFixed(0)} s | ${(readers / result.seconds).toFixed(0)} msg/s | ${(result.peakKb / 1024).toFixed(0)} MB |`;
    console.log(line);
    writeFileSync(
      join(root, 'docs', 'performance-send-large.md'),
      `# A large send\n\nMeasured by \`node bench/send.js --readers ${readers}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}: one \`digest send\` of the sample issue\nto ${readers.toLocaleString('en')} generated readers (a CSV list, the SQLite journal) through an smtp-server sink on 127.0.0.1 in its own process.\nPeak memory is the sending process's peak resident set.\n\n| readers | time | rate | peak memory |\n| --- | --- | --- | --- |\n${line}\n`,
    );
  } finally {
    sink.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
