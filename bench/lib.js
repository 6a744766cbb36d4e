// Shared by the benchmarks: timing whole processes and in-process work, and summarising runs.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import autocannon from 'autocannon';
import { createInterface } from 'node:readline';

/** Median, min and max of a list of numbers. */
export function summarise(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1), runs: sorted.length };
}

/** Wall-clock seconds of one run of a command, which must succeed. */
export function timeProcess(command, args, options = {}) {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr}`);
  return seconds;
}

/**
 * Runs two commands alternately, so that both see the same machine load over the run, and
 * summarises each. One warm-up run of each is not counted.
 */
export function compareProcesses(runs, ours, baseline) {
  timeProcess(...ours);
  timeProcess(...baseline);
  const a = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    a.push(timeProcess(...ours));
    b.push(timeProcess(...baseline));
  }
  return { ours: summarise(a), baseline: summarise(b) };
}

/** Milliseconds per call of an async function, after warm-up runs. */
export async function timeCalls(runs, fn, warmup = 3) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return summarise(times);
}

/** Alternates two in-process measurements, so both share the machine's state. */
export async function compareCalls(runs, ours, baseline, warmup = 3) {
  for (let i = 0; i < warmup; i++) {
    await ours();
    await baseline();
  }
  const a = [];
  const b = [];
  for (let i = 0; i < runs; i++) {
    for (const [fn, into] of [[ours, a], [baseline, b]]) {
      const start = process.hrtime.bigint();
      await fn();
      into.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  return { ours: summarise(a), baseline: summarise(b) };
}

/**
 * One row of the table. `higherIsBetter` flips the ratio for throughputs. `target` is the largest
 * (or, for throughputs, smallest) acceptable ratio. Where the goal is not a ratio (a rate, a
 * latency), `goal` says what it is and `met` whether it was reached; the ratio is then shown for
 * information. A row with `judged: false` is shown for comparison only, with no target.
 */
export function row({ figure, unit, ours, baseline, baselineName, target, higherIsBetter = false, note = '', goal, met, judged = true }) {
  const ratio = baseline ? ours.median / baseline.median : undefined;
  const ratioMet = ratio === undefined ? undefined : higherIsBetter ? ratio >= target : ratio <= target;
  if (!judged) return { figure, unit, ours, baseline, baselineName, ratio, higherIsBetter, judged, note, goal: 'not judged' };
  return { figure, unit, ours, baseline, baselineName, ratio, target, higherIsBetter, judged, met: met ?? ratioMet, note, goal };
}

/**
 * A counting sink (bench/sink.js for SMTP, bench/api-sink.js for HTTP APIs) in a process of its
 * own, so it shares no event loop with the sender measured: its port, a stop, and `window()`,
 * messages a second between the first and the last message since the last call.
 */
export async function forkSink(script, args = []) {
  const { fork } = await import('node:child_process');
  const child = fork(script, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise((ready) => child.stdout.once('data', (data) => ready(Number(String(data).trim()))));
  return {
    port,
    stop: () => child.connected && child.send('stop'),
    window: () =>
      new Promise((done) => {
        child.once('message', ({ count, seconds }) => done(seconds > 0 ? count / seconds : 0));
        child.send('window');
      }),
  };
}

/**
 * Starts a server process and waits (at most 20 s) for the line that gives its URL; its stderr
 * keeps being drained, and lines at level error are counted (cheaply: this process also runs the
 * load, and the access log is a line per request).
 */
export async function startChild(args, options, urlOf) {
  const child = spawn(process.execPath, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
  const lines = createInterface({ input: child.stderr });
  let errors = 0;
  let found;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start within 20 s`)), 20_000);
    lines.on('line', (line) => {
      if (found) {
        if (line.includes('"level":"error"')) errors++;
        return;
      }
      found = urlOf(line);
      if (found) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited ${code} before listening`));
    });
  });
  return { child, url: typeof found === 'string' ? found : found.url, found, errors: () => errors };
}

/**
 * The compiled `digest serve` on `db`, in the project folder `cwd`, with only DIGEST_SECRET of the
 * DIGEST_* environment (so a variable set in the shell cannot change what is measured). Resolves
 * with its `listening` line as `found`.
 */
export function startServe(bin, cwd, db, secret) {
  const env = { ...process.env, NO_COLOR: '1', DIGEST_SECRET: secret };
  for (const name of Object.keys(env)) if (name.startsWith('DIGEST_') && name !== 'DIGEST_SECRET') delete env[name];
  return startChild([bin, 'serve', '--port', '0', '--db', db], { cwd, env }, (line) => {
    try {
      const entry = JSON.parse(line);
      return entry.msg === 'listening' ? entry : undefined;
    } catch {
      return undefined;
    }
  });
}

/** A bare node:http hello-world in a process of its own: the baseline of the serve benchmarks. */
export function startHello(cwd) {
  return startChild(
    ['-e', "const s=require('node:http').createServer((q,r)=>r.end('hello')).listen(0,'127.0.0.1',()=>console.error('http://127.0.0.1:'+s.address().port));process.on('SIGTERM',()=>s.close(()=>process.exit(0)))"],
    { cwd },
    (line) => (line.startsWith('http://') ? line : undefined),
  );
}

/**
 * The serve benchmarks' measurement: a short warm-up of each server, then autocannon on ours and on
 * the baseline in turn, `runs` times, so that both see the same machine. `measured(result, warmUp)`
 * sees each of our results (to count answers and failures); `afterOurs()` runs after each measured one.
 */
export async function alternate({ oursUrl, request, helloUrl, runs, seconds, connections, measured = () => {}, afterWarmUp = () => {}, afterOurs = () => {} }) {
  const load = (url, requests) => autocannon({ url, connections, duration: seconds, requests });
  await autocannon({ url: helloUrl, connections, duration: 1 });
  measured(await load(oursUrl, [request]), true);
  afterWarmUp();
  const rates = [];
  const baseline = [];
  const p99 = [];
  for (let i = 0; i < runs; i++) {
    const mine = await load(oursUrl, [request]);
    measured(mine, false);
    rates.push(mine.requests.average);
    p99.push(mine.latency.p99);
    afterOurs();
    baseline.push((await load(helloUrl)).requests.average);
  }
  return { rates, baseline, p99 };
}

/**
 * A served route's row: its rate beside the bare hello-world's, judged by the goal the routes share
 * (a rate and a latency; the ratio is reported beside it). The note gets the load and the p99.
 */
export function requestRateRow({ figure, rates, baseline, p99, note, connections, seconds }) {
  const ours = summarise(rates);
  const worstP99 = Math.max(...p99);
  return row({
    figure,
    unit: 'req/s',
    ours,
    baseline: summarise(baseline),
    baselineName: 'bare `node:http` hello-world',
    higherIsBetter: true,
    goal: '≥ 2,000 req/s, p99 < 50 ms',
    met: ours.median >= 2000 && worstP99 < 50,
    note: `${note}; ${connections} connections, ${seconds} s × ${rates.length} runs (autocannon); p99 ${summarise(p99).median} ms (worst ${worstP99} ms)`,
  });
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
