// One-click unsubscribe (RFC 8058) through the compiled `digest serve` on SQLite, against a bare
// node:http hello-world, both loaded by autocannon in the same run, alternately. Every request of
// ours is a real unsubscribe, a write: first the readers already on the list, then addresses never
// on it (recorded as unsubscribed). Needs `npx tsc -p .` first (npm run bench does it).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, requestRateRow, startHello, startServe, stop } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'digest.js');
const SECRET = 'bench secret, thirty-two characters or more, not used elsewhere';
const CONNECTIONS = 10;

export async function run({ quick }) {
  const work = mkdtempSync(join(tmpdir(), 'digest-bench-unsubscribe-'));
  const children = [];
  try {
    const runs = quick ? 2 : 5;
    const seconds = quick ? 3 : 8;
    const readers = quick ? 5_000 : 20_000;
    writeFileSync(join(work, 'digest.config.yaml'), 'name: Bench Gazette\nbaseUrl: https://bench.example/news\n');
    const db = `sqlite:${join(work, 'digest.db')}`;

    const { openStore } = await import(join(root, 'dist', 'audience', 'open.js'));
    const { sealUnsubscribe, unsubscribeKey } = await import(join(root, 'dist', 'delivery', 'unsubscribe.js'));
    const store = await openStore(db, { create: true });
    for (let start = 0; start < readers; start += 1000) {
      const batch = [];
      for (let i = start; i < Math.min(start + 1000, readers); i++) batch.push({ email: `reader${i}@example.com`, international: false, status: 'subscribed' });
      await store.upsert(batch, { source: 'bench' });
    }
    await store.close();

    const key = unsubscribeKey(SECRET);
    let next = 0;
    const body = 'List-Unsubscribe=One-Click';
    const oneClick = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      setupRequest(request) {
        const i = next++;
        const email = i < readers ? `reader${i}@example.com` : `new${i}@example.com`;
        return { ...request, path: `/news/unsubscribe/${sealUnsubscribe({ email, issue: 'bench' }, key)}` };
      },
    };

    const ours = await startServe(bin, work, db, SECRET);
    children.push(ours.child);
    const hello = await startHello(work);
    children.push(hello.child);

    let failures = 0;
    const { rates: a, baseline: b, p99 } = await alternate({
      oursUrl: ours.url,
      request: oneClick,
      helloUrl: hello.url,
      runs,
      seconds,
      connections: CONNECTIONS,
      measured(result, warmUp) {
        if (!warmUp) failures += result.non2xx + result.errors + result.timeouts;
      },
    });
    if (failures) throw new Error(`${failures} one-click requests failed during the benchmark`);
    return [
      requestRateRow({
        figure: 'one-click unsubscribe, requests/s on loopback',
        rates: a,
        baseline: b,
        p99,
        connections: CONNECTIONS,
        seconds,
        note: `SQLite, every request a write`,
      }),
    ];
  } finally {
    for (const child of children) await stop(child);
    rmSync(work, { recursive: true, force: true });
  }
}

