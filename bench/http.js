// digest send through an HTTP email API channel (mailgun://, our raw MIME posted as a form) against
// a plain fetch loop posting the same messages, both to a counting API sink on 127.0.0.1 in its own
// process, alternately in the same run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkSink, row, summarise } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'digest.js');
const issue = join(root, 'issues', '2024-03-08-weekly.md');
const secret = 'benchmark secret, long enough to seal unsubscribe links';
/** Requests in flight, for both: the channel's --concurrency and the loop's workers. */
const CONCURRENCY = 10;

export async function run({ quick }) {
  const readers = quick ? 1000 : 5000;
  const runs = quick ? 1 : 3;
  const work = mkdtempSync(join(tmpdir(), 'digest-bench-http-'));
  const sink = await startApiSink();
  try {
    const listFile = join(work, 'list.csv');
    writeFileSync(listFile, ['email,name', ...Array.from({ length: readers }, (_, i) => `r${i}@example.org,Reader ${i}`)].join('\n') + '\n');
    // The same bytes for the baseline: every reader's message as the factory builds it, from the outbox.
    digest(['send', issue, '--to', listFile, '--db', `sqlite:${join(work, 'outbox.db')}`, '--via', `outbox:${join(work, 'out')}`, '--yes']);
    const [slug] = readdirSync(join(work, 'out'));
    const folder = join(work, 'out', slug);
    const endpoint = `http://127.0.0.1:${sink.port}`;
    const ours = [];
    const baseline = [];
    let n = 0;
    const viaChannel = () =>
      digest(['send', issue, '--to', listFile, '--db', `sqlite:${join(work, `http-${n++}.db`)}`, '--via', `mailgun://bench.example?endpoint=${endpoint}`, '--concurrency', String(CONCURRENCY), '--yes']);
    const viaFetch = () => {
      const result = spawnSync(process.execPath, [join(root, 'bench', 'fetch-loop.js'), `${endpoint}/v3/bench.example/messages.mime`, folder, String(CONCURRENCY)], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`the fetch loop failed: ${result.stderr}`);
    };
    // One warm-up of each, not counted.
    viaChannel();
    await sink.window();
    viaFetch();
    await sink.window();
    for (let i = 0; i < runs; i++) {
      viaChannel();
      ours.push(await sink.window());
      viaFetch();
      baseline.push(await sink.window());
    }
    return [
      row({
        figure: `\`digest send\` through an HTTP API channel (mailgun://, raw MIME), ${readers.toLocaleString('en')} readers`,
        unit: 'msg/s',
        ours: summarise(ours),
        baseline: summarise(baseline),
        baselineName: 'a plain fetch loop posting the same messages',
        target: 0.8,
        higherIsBetter: true,
        note: `${CONCURRENCY} requests in flight for both, to a counting API sink on 127.0.0.1 in its own process; messages a second from the first request the sink received to the last (start-up and rendering left out of both); digest also keeps the SQLite journal (a mark before and an outcome after each message)`,
      }),
    ];
  } finally {
    sink.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function digest(args) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, DIGEST_SECRET: secret, MAILGUN_API_KEY: 'bench-key', CI: '1' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`digest ${args[0]} failed (${result.status}): ${result.stderr}`);
}

function startApiSink() {
  return forkSink(join(root, 'bench', 'api-sink.js'));
}
