// The preflight (`digest check --preflight`) through the real CLI, each run a process of its own:
//   - offline, on the repository's sample issue: lint plus the spam score and axe-core in Chromium
//     (the checks that need no network), against `digest check` (lint alone) in the same run;
//   - the link check of an issue with 100 links and images to a local web server (bench/link-server.js,
//     its own process, 20 ms a response), the cache emptied before each run, against a bare undici
//     loop fetching the same URLs with the same concurrency; and the same check again with the cache
//     full (no request may reach the server then: counted).
// Needs `npm run build` first (npm run bench does it).
import { fork } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { row, summarise, timeProcess } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'digest.js');
const LINKS = 100;
const CONCURRENCY = 8;
const GOAL_SECONDS = 2;

export async function run({ quick }) {
  const runs = quick ? 2 : 5;
  const work = mkdtempSync(join(tmpdir(), 'digest-bench-preflight-'));
  const server = await startServer();
  try {
    cpSync(join(root, 'issues'), join(work, 'issues'), { recursive: true });
    // The sample config's own site (the template's "view in browser" and subscribe links) is a
    // reserved name that no DNS serves: left out, so that the links measured are the server's.
    writeFileSync(join(work, 'digest.config.yaml'), `${readFileSync(join(root, 'digest.config.yaml'), 'utf8')}\npreflight:\n  skipHosts: [valleyledger.example]\n`);
    const env = { ...process.env, NO_COLOR: '1' };
    for (const name of Object.keys(env)) if (name.startsWith('DIGEST_')) delete env[name];
    const options = { cwd: work, env };
    const sample = join('issues', '2024-03-08-weekly.md');
    const spawnable = existsSync('/usr/bin/chromium');

    const lintOnly = [];
    const offline = [];
    for (let i = 0; i < runs; i++) {
      lintOnly.push(timeProcess(process.execPath, [bin, 'check', sample], options));
      offline.push(timeProcess(process.execPath, [bin, 'check', '--preflight', '--offline', sample], options));
    }

    // 100 links and 10 images, each a URL of its own, in an issue of their own.
    const base = `http://127.0.0.1:${server.port}`;
    const links = Array.from({ length: LINKS - 10 }, (_, i) => `${base}/page/${i}`);
    const images = Array.from({ length: 10 }, (_, i) => `${base}/image/${i}.png`);
    const body = [
      ...links.map((url, i) => `- [Story number ${i}](${url})`),
      '',
      ...images.map((url, i) => `![Photo ${i} of the week](${url})`),
    ].join('\n');
    writeFileSync(join(work, 'issues', 'links.md'), `---\ntitle: A hundred links\ndate: 2024-04-05\n---\n\nThe week in links.\n\n## Links\n\n${body}\n`);
    const cache = join(work, 'build', '.cache');

    const ours = [];
    const cached = [];
    const bare = [];
    let cachedRequests = 0;
    for (let i = 0; i < runs; i++) {
      rmSync(cache, { recursive: true, force: true });
      ours.push(timeProcess(process.execPath, [bin, 'check', '--preflight', '--checks', 'links', join('issues', 'links.md')], options));
      const before = await server.count();
      cached.push(timeProcess(process.execPath, [bin, 'check', '--preflight', '--checks', 'links', join('issues', 'links.md')], options));
      cachedRequests += (await server.count()) - before;
      bare.push(await bareLoop([...links, ...images]));
    }
    return [
      row({
        figure: 'preflight offline, sample issue (lint, spam, axe at 2 widths × 2 schemes)',
        unit: 's',
        ours: summarise(offline),
        baseline: summarise(lintOnly),
        baselineName: '`digest check` (lint only)',
        judged: false,
        note: spawnable ? 'the difference is the spam score and four axe-core runs in one Chromium' : 'no Chromium here: the accessibility check was skipped',
      }),
      {
        ...row({
          figure: `preflight links, ${LINKS} URLs to a local server (20 ms each), cache empty`,
          unit: 's',
          ours: summarise(ours),
          baseline: summarise(bare),
          baselineName: `bare undici loop, ${CONCURRENCY} at a time (in-process)`,
          target: GOAL_SECONDS,
          goal: `< ${GOAL_SECONDS} s`,
          met: summarise(ours).median < GOAL_SECONDS,
        }),
        note: 'ours is a whole CLI run (start, render, then the check); the baseline only fetches',
      },
      row({
        figure: `preflight links again, cache full (${cachedRequests} requests reached the server)`,
        unit: 's',
        ours: summarise(cached),
        baseline: summarise(lintOnly),
        baselineName: '`digest check` (lint only)',
        judged: false,
      }),
    ];
  } finally {
    server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

async function bareLoop(urls) {
  const started = performance.now();
  const queue = [...urls];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let url = queue.shift(); url; url = queue.shift()) {
        const answer = await request(url, { method: 'HEAD' });
        await answer.body.dump();
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

async function startServer() {
  const child = fork(fileURLToPath(new URL('./link-server.js', import.meta.url)), ['--delay', '20'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise((ready) => child.stdout.once('data', (data) => ready(Number(String(data).trim()))));
  return {
    port,
    count: () =>
      new Promise((done) => {
        child.once('message', ({ requests }) => done(requests));
        child.send('count');
      }),
    stop: () => child.connected && child.send('stop'),
  };
}
