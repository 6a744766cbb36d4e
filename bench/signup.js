// Sign-up (POST <base>/subscribe) through the compiled `digest serve` on SQLite, against a bare
// node:http hello-world, both loaded by autocannon in the same run, alternately. Every request of
// ours is a form post of an address never seen before, so each one writes a row to the sign-up
// ledger and mails a confirmation (to the outbox folder: no route is set). After the runs the
// ledger and the outbox are counted, so no figure stands for work that was not done. Needs
// `npx tsc -p .` first (npm run bench does it).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { alternate, row, startHello, startServe, stop, summarise } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'digest.js');
const SECRET = 'bench secret, thirty-two characters or more, not used elsewhere';
const CONNECTIONS = 10;
const GOAL_RATE = 1000;
const GOAL_P99_MS = 50;
const GOAL_GROWTH_MB = 50;

export async function run({ quick }) {
  const work = mkdtempSync(join(tmpdir(), 'digest-bench-signup-'));
  const children = [];
  try {
    const runs = quick ? 2 : 5;
    const seconds = quick ? 3 : 8;
    // Sign-up on, the per-IP limit out of the way (every request comes from 127.0.0.1); a sender
    // and a postal address, without which the confirmation does not build; no route anywhere, so
    // confirmations go to ./outbox.
    writeFileSync(
      join(work, 'digest.config.yaml'),
      'name: Bench Gazette\nfrom: Bench Gazette <news@bench.example>\naddress: 1 Bench Street, Benchville\nbaseUrl: https://bench.example/news\nsignup:\n  enabled: true\n  perIpPerMinute: 1000000000\n',
    );
    const db = `sqlite:${join(work, 'digest.db')}`;
    const outbox = join(work, 'outbox', 'confirm-subscription');

    const { openStore } = await import(join(root, 'dist', 'audience', 'open.js'));
    await (await openStore(db, { create: true })).close();

    let next = 0;
    const signUp = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      setupRequest(request) {
        const i = next++;
        return { ...request, body: `email=new${i}%40example.com&name=New+Reader+${i}` };
      },
    };

    const ours = await startServe(bin, work, db, SECRET);
    children.push(ours.child);
    if (!ours.found.subscribe) throw new Error('digest serve did not turn sign-up on: check the config written by bench/signup.js');
    const subscribeUrl = new URL(ours.found.subscribe, ours.found.url).href;
    const hello = await startHello(work);
    children.push(hello.child);

    let answered = 0;
    let failures = 0;
    // The warm-up's sign-ups are counted too, in the checks below.
    let rssAfterWarmUp;
    const rss = [];
    const { rates: a, baseline: b, p99 } = await alternate({
      oursUrl: subscribeUrl,
      request: signUp,
      helloUrl: hello.url,
      runs,
      seconds,
      connections: CONNECTIONS,
      measured(result) {
        answered += result['2xx'];
        failures += result.non2xx + result.errors + result.timeouts;
      },
      afterWarmUp: () => (rssAfterWarmUp = rssMb(ours.child.pid)),
      afterOurs: () => rss.push(rssMb(ours.child.pid)),
    });
    const rssAtEnd = rss.at(-1);
    // A 429 would mean the limiter throttled us; anything else not 2xx, that requests failed.
    if (failures) throw new Error(`${failures} sign-up requests failed (non-2xx, errors or timeouts) during the benchmark`);

    // The confirmations are sent without being awaited: give the last ones a moment to land.
    let mailed = countFiles(outbox);
    for (let waited = 0; waited < 10_000 && mailed < answered; waited += 250) {
      await sleep(250);
      mailed = countFiles(outbox);
    }
    const notSent = ours.errors();
    await stop(ours.child);
    children.splice(children.indexOf(ours.child), 1);
    const store = await openStore(db);
    let ledger;
    try {
      const counted = await store.dialect.db.selectFrom('signups').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      ledger = Number(counted.n);
    } finally {
      await store.close();
    }
    // Every answer came after its row was written; a few confirmations may still have been in flight.
    const tolerance = Math.max(20, Math.ceil(answered * 0.002));
    if (notSent) throw new Error(`${notSent} confirmations were not sent (digest serve logged "confirmation not sent")`);
    if (ledger < answered) throw new Error(`the ledger holds ${ledger} sign-ups for ${answered} answers of 200: the benchmark measured requests that wrote nothing`);
    if (mailed < answered - tolerance) throw new Error(`the outbox holds ${mailed} confirmations for ${answered} sign-ups answered: the benchmark measured work not done`);

    const ourRate = summarise(a);
    const p99s = summarise(p99);
    const growth = rssAtEnd - rssAfterWarmUp;
    const setting = `SQLite, every request a new address (a ledger row and a confirmation in the outbox), ${CONNECTIONS} connections, ${seconds} s × ${runs} runs (autocannon)`;
    return [
      row({
        figure: 'sign-up (POST /subscribe), requests/s on loopback',
        unit: 'req/s',
        ours: ourRate,
        baseline: summarise(b),
        baselineName: 'bare `node:http` hello-world',
        higherIsBetter: true,
        goal: `≥ ${GOAL_RATE.toLocaleString('en')} req/s`,
        met: ourRate.median >= GOAL_RATE,
        note: `${setting}; ${answered.toLocaleString('en')} sign-ups answered 200 (warm-up included), ${ledger.toLocaleString('en')} ledger rows, ${mailed.toLocaleString('en')} confirmations in the outbox`,
      }),
      {
        figure: 'same, p99 latency (worst run)',
        unit: 'ms',
        ours: p99s,
        baselineName: '—',
        target: GOAL_P99_MS,
        absolute: true,
        met: p99s.max < GOAL_P99_MS,
        note: `p99 of each run: ${p99.join(', ')} ms`,
      },
      {
        figure: 'same, RSS growth of the serve process over the runs',
        unit: 'MB',
        ours: summarise([growth]),
        baselineName: '—',
        target: GOAL_GROWTH_MB,
        absolute: true,
        met: growth < GOAL_GROWTH_MB,
        note: `VmRSS ${rssAfterWarmUp.toFixed(0)} MB after the warm-up, then after each run ${rss.map((mb) => mb.toFixed(0)).join(', ')} MB${quick ? ' (quick mode: a 3 s warm-up leaves the heap still growing to its working size)' : ''}`,
      },
    ];
  } finally {
    for (const child of children) await stop(child);
    rmSync(work, { recursive: true, force: true });
  }
}

/** The resident set of a process, in MB, from /proc. */
function rssMb(pid) {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) / 1024;
}

/** Finished files in a folder (the outbox writes a dot-named temporary first, then renames it). */
function countFiles(folder) {
  return existsSync(folder) ? readdirSync(folder).filter((name) => !name.startsWith('.')).length : 0;
}

