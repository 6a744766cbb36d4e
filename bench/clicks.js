// Tracked links' redirect (/c/<link>/<reader>) through the compiled `digest serve` on SQLite with
// tracking.clicks and perReader on, against a bare node:http hello-world, both loaded by autocannon in
// the same run, alternately. Every request of ours opens two sealed tokens, answers 302 and counts a
// click for the link and the reader: 50 links of one issue, a different reader each request. The
// counts are checked in the database afterwards. Needs `npx tsc -p .` first (npm run bench does it).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, requestRateRow, startHello, startServe, stop } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'digest.js');
const SECRET = 'bench secret, thirty-two characters or more, not used elsewhere';
const CONNECTIONS = 10;
const LINKS = 50;
const READERS = 20_000;

export async function run({ quick }) {
  const work = mkdtempSync(join(tmpdir(), 'digest-bench-clicks-'));
  const children = [];
  try {
    const runs = quick ? 2 : 5;
    const seconds = quick ? 3 : 8;
    writeFileSync(join(work, 'digest.config.yaml'), 'name: Bench Gazette\nbaseUrl: https://bench.example/news\ntracking:\n  clicks: true\n  perReader: true\n');
    const db = `sqlite:${join(work, 'digest.db')}`;

    const { openStore } = await import(join(root, 'dist', 'audience', 'open.js'));
    await (await openStore(db, { create: true })).close();
    const { clickKey, readerKey, sealClick, sealReader } = await import(join(root, 'dist', 'tracking', 'token.js'));
    const links = Array.from({ length: LINKS }, (_, i) => sealClick({ issue: 'bench', url: `https://valleyledger.example/stories/${i}?utm_source=newsletter` }, clickKey(SECRET)));
    const readers = Array.from({ length: READERS }, (_, i) => sealReader({ emailKey: `reader${i}@example.com`, issue: 'bench' }, readerKey(SECRET)));
    let next = 0;
    const clickRequest = {
      method: 'GET',
      setupRequest(request) {
        const i = next++;
        return { ...request, path: `/news/c/${links[i % LINKS]}/${readers[i % READERS]}` };
      },
    };

    const ours = await startServe(bin, work, db, SECRET);
    children.push(ours.child);
    const hello = await startHello(work);
    children.push(hello.child);

    // Every 302 answered is a click the database must hold in the end (the warm-up's too).
    let answered = 0;
    let failures = 0;
    const { rates: a, baseline: b, p99 } = await alternate({
      oursUrl: ours.url,
      request: clickRequest,
      helloUrl: hello.url,
      runs,
      seconds,
      connections: CONNECTIONS,
      measured(result, warmUp) {
        answered += result['3xx'];
        // autocannon counts a 302 as neither 2xx nor an error: anything but 3xx is a failure here.
        if (!warmUp) failures += result['1xx'] + result['2xx'] + result['4xx'] + result['5xx'] + result.errors + result.timeouts;
      },
    });
    if (failures) throw new Error(`${failures} click requests did not get their redirect during the benchmark`);
    if (ours.errors()) throw new Error(`digest serve logged ${ours.errors()} errors during the benchmark`);

    // SIGTERM writes what is still held; then every redirect answered must be a click counted.
    await stop(ours.child);
    const store = await openStore(db);
    let counted;
    try {
      const rows = await store.dialect.db.selectFrom('link_clicks').select((eb) => eb.fn.sum('clicks').as('clicks')).executeTakeFirst();
      counted = Number(rows?.clicks ?? 0);
      const perReader = await store.dialect.db.selectFrom('reader_clicks').select((eb) => eb.fn.sum('clicks').as('clicks')).executeTakeFirst();
      if (Number(perReader?.clicks ?? 0) !== counted) throw new Error(`${counted} link clicks but ${perReader?.clicks} reader clicks counted`);
    } finally {
      await store.close();
    }
    // A request cut off at the end of a run may have been counted without its answer arriving.
    if (counted < answered || counted > next) throw new Error(`${answered} redirects answered of ${next} requests made, but ${counted} clicks counted`);

    return [
      requestRateRow({
        figure: 'tracked link redirect (/c/), requests/s on loopback',
        rates: a,
        baseline: b,
        p99,
        connections: CONNECTIONS,
        seconds,
        note: `SQLite, tracking.perReader on: every request opens a link and a reader token, answers 302 and counts for both (group commit), ${counted.toLocaleString('en')} clicks counted in all, checked in the database`,
      }),
    ];
  } finally {
    for (const child of children) await stop(child);
    rmSync(work, { recursive: true, force: true });
  }
}
