/**
 * The promise at the heart of digest, held to what a real SMTP server on loopback received: three
 * `digest send` processes share one issue while the server greylists, bounces and drops
 * connections, and while they are killed with SIGKILL at random moments; afterwards every reader
 * has at most one copy, the journal's `sent` is exactly what the server accepted, every reader the
 * server did not accept is `failed` (a hard bounce) or `unknown`, and `unknown` holds only readers
 * whose fate a client could not know: in flight at a kill, or cut off after their whole message.
 *
 * One pass proves little: DIGEST_CHAOS_ROUNDS=20 runs the kill test twenty times in a row.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/audience/open.js';
import type { JournalState } from '../../src/delivery/journal.js';
import { onEachDatabase } from '../audience/databases.js';
import { bin } from '../helpers.js';
import { startSink, type Behaviour } from '../smtp-sink.js';
import { project, SECRET } from './project.js';

const READERS = 1500;
const ROUNDS = Number(process.env.DIGEST_CHAOS_ROUNDS ?? 1);
/**
 * The longest an answer may precede a kill and still be lost: the group commit writes an outcome
 * within a commit or two (a few ms); the margin is for a loaded two-core machine.
 */
const WINDOW_MS = 100;
/** How long after a kill the sink may still accept a message the killed process had sent whole. */
const IN_FLIGHT_MS = 100;
const list = `email,name,tags\n${Array.from({ length: READERS }, (_, i) => `r${String(i).padStart(5, '0')}@example.org,Reader ${i},local`).join('\n')}\n`;

/** A stable draw in [0, 1) per recipient, so each reader meets the same fault in every process. */
function draw(recipient: string): number {
  return createHash('sha256').update(recipient).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * About 10% greylisted on the first try, 3% hard bounces, 3% whose connection drops before DATA on
 * the first try, 2% whose connection drops part-way through the message on the first try, 0.5% whose
 * message is never answered on the first try (given up on after --timeout 1); every
 * accepted message is answered after a few milliseconds, so kills land with messages in flight.
 */
const chaos: Behaviour = (recipient, attempt) => {
  const x = draw(recipient);
  if (x < 0.03) return { code: 550, message: '5.1.1 No such user here' };
  if (attempt === 1 && x < 0.13) return { code: 451, message: '4.7.1 Greylisted, try again later' };
  if (attempt === 1 && x < 0.16) return 'drop-before-data';
  if (attempt === 1 && x < 0.18) return 'drop';
  if (attempt === 1 && x < 0.185) return 'silent';
  return new Promise((done) => setTimeout(() => done('accept'), 2 + Math.floor(x * 1000) % 6));
};
const bounces = (recipients: string[]) => recipients.filter((recipient) => draw(recipient) < 0.03);
/** The readers a server cut off after DATA began (dropped, or never answered): unknown is their right outcome. */
const droppedMidData = (recipient: string) => draw(recipient) >= 0.16 && draw(recipient) < 0.185;
const everyone = Array.from({ length: READERS }, (_, i) => `r${String(i).padStart(5, '0')}@example.org`);

interface Run {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function startSend(root: string, db: string, smtp: string, extra: string[] = []): Run {
  const child = spawn(
    process.execPath,
    [bin, 'send', 'issues/week.md', '--to', 'many.csv', '--db', db, '--smtp', smtp, '--yes', '--json', '--concurrency', '3', '--attempts', '3', '--retry-delay', '20', '--timeout', '1', ...extra],
    { cwd: root, env: { ...process.env, DIGEST_SECRET: SECRET, CI: '1', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((done) =>
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr })),
  );
  return { child, exited };
}

async function journalStates(db: string): Promise<Map<string, JournalState>> {
  const store = await openStore(db);
  try {
    const rows = await (store as unknown as { dialect: { db: any } }).dialect.db.selectFrom('send_journal').select(['email', 'state']).where('issue', '=', 'week').execute();
    return new Map(rows.map((row: { email: string; state: JournalState }) => [row.email, row.state]));
  } finally {
    await store.close();
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** What every run must leave, whatever happened on the way: the journal against the server. */
function expectJournalMatchesServer(states: Map<string, JournalState>, sink: Awaited<ReturnType<typeof startSink>>) {
  const copies = sink.perRecipient();
  const twice = [...copies].filter(([, n]) => n > 1).map(([recipient]) => recipient);
  expect(twice, 'readers the server accepted twice').toEqual([]);
  const byState = (state: JournalState) => everyone.filter((recipient) => states.get(recipient) === state);
  // Sent is exactly what the server accepted, and nothing the server accepted is called anything but sent or unknown.
  expect(byState('sent').filter((recipient) => !copies.has(recipient)), 'sent but never accepted').toEqual([]);
  expect([...copies.keys()].filter((recipient) => !['sent', 'unknown'].includes(states.get(recipient)!)), 'accepted but not sent or unknown').toEqual([]);
  // Only hard bounces are failed; a bounce whose answer a kill cut off is unknown instead.
  expect(byState('failed').filter((recipient) => draw(recipient) >= 0.03), 'failed but not a bounce').toEqual([]);
  expect(bounces(everyone).filter((recipient) => !['failed', 'unknown'].includes(states.get(recipient)!)), 'bounces neither failed nor unknown').toEqual([]);
  // Nothing is left undone: no reader pending, sending or deferred after the last run.
  expect(everyone.filter((recipient) => !['sent', 'failed', 'unknown'].includes(states.get(recipient)!)), 'left unfinished').toEqual([]);
  return { unknown: byState('unknown'), copies };
}

onEachDatabase((target) => {
  describe('exactly once, with three senders and a server that misbehaves', () => {
    it('without a crash: every reader once, each hard bounce failed, unknown only where the server cut a message off', async () => {
      const sink = await startSink({ behaviour: chaos, parse: false });
      const root = project({ 'many.csv': list });
      const db = await target.fresh();
      const runs = [startSend(root, db, sink.url), startSend(root, db, sink.url), startSend(root, db, sink.url)];
      const results = await Promise.all(runs.map((run) => run.exited));
      for (const result of results) {
        expect(result.stderr).not.toMatch(/Warning|error/i);
        const summary = JSON.parse(result.stdout);
        // 0 when this process left every reader final; 75 only for readers it could not settle.
        expect(result.code).toBe(summary.deferred || summary.unknownNow || summary.pending ? 75 : 0);
      }
      expect(results.filter((result) => JSON.parse(result.stdout).sent > 0).length, 'the work is shared out').toBeGreaterThan(target.kind === 'postgres' ? 1 : 0);

      const states = await journalStates(db);
      const { unknown } = expectJournalMatchesServer(states, sink);
      expect(everyone.filter((recipient) => states.get(recipient) === 'failed')).toEqual(bounces(everyone));
      // No process died: a reader is unknown only if the server cut it off after DATA began.
      expect(unknown.filter((recipient) => !droppedMidData(recipient))).toEqual([]);
      await sink.close();
    });

    for (let round = 1; round <= ROUNDS; round++) {
      it(`killed with SIGKILL again and again${ROUNDS > 1 ? ` (round ${round})` : ''}: no reader twice, every loss unknown, unknown only in flight`, async () => {
        const sink = await startSink({ behaviour: chaos, parse: false });
        const root = project({ 'many.csv': list });
        const db = await target.fresh();
        const kills: number[] = [];
        let runs = [0, 1, 2].map(() => startSend(root, db, sink.url));
        // Four rounds of kills at random moments while messages flow: now one process, now all three.
        const exits: { code: number | null; signal: NodeJS.Signals | null; stderr: string }[] = [];
        const track = (run: Run) => (void run.exited.then((result) => exits.push(result)), run);
        runs.forEach(track);
        for (let k = 0; k < 4; k++) {
          const target = sink.received.length + 40 + Math.random() * 120;
          const live = () => runs.filter((run) => run.child.exitCode === null && run.child.signalCode === null).length;
          await expect.poll(() => sink.received.length >= target || live() === 0, { timeout: 60_000, interval: 5 }).toBe(true);
          if (live() === 0) break; // the send finished before this round's kill
          await sleep(Math.random() * 60);
          const victims = k % 2 === 0 ? [runs[Math.floor(Math.random() * 3)]!] : runs;
          const at = Date.now();
          for (const victim of victims) victim.child.kill('SIGKILL');
          for (const victim of victims) await victim.exited;
          kills.push(at);
          runs = runs.map((run) => (victims.includes(run) ? track(startSend(root, db, sink.url)) : run));
        }
        const results = await Promise.all(runs.map((run) => run.exited));
        // Every process that was not killed ended as a send ends: done (0) or with work left (75).
        for (const exit of exits.filter((e) => e.signal === null)) expect([0, 75], exit.stderr).toContain(exit.code);
        for (const result of results.filter((r) => r.signal === null)) expect(result.stderr).not.toMatch(/Warning|internal error/i);
        // A last run without kills settles what the killed ones left and retries the deferred.
        const last = await startSend(root, db, sink.url).exited;
        expect(last.stderr).not.toMatch(/Warning|internal error/i);
        await sleep(100); // any answer still on the wire lands before the count

        const states = await journalStates(db);
        const { unknown, copies } = expectJournalMatchesServer(states, sink);
        // An unknown reader the server did accept was in flight at a kill (the server answered a few
        // ms after it, as it answers late on purpose) or answered just before one: within the group
        // commit's window, never earlier. Negative gaps are answers that came after the kill.
        const lateAnswers = unknown.filter((recipient) => copies.has(recipient));
        const gaps = lateAnswers.map((recipient) => {
          const at = sink.received.find((message) => message.recipient === recipient)!.at;
          // Infinity: no kill near it, so none can explain it.
          return Math.min(...kills.filter((kill) => kill >= at - IN_FLIGHT_MS).map((kill) => kill - at));
        });
        if (process.env.DIGEST_CHAOS_LOG) console.log(JSON.stringify({ kind: target.kind, unknown: unknown.length, lateAnswers: lateAnswers.length, gaps }));
        for (const gap of gaps) expect(gap, `a reader accepted ${gap} ms before the next kill is unknown`).toBeLessThan(WINDOW_MS);
        // At most the messages in flight in the processes killed (3 connections each), plus those
        // dropped mid-message, plus the few answered in the window.
        const killedProcesses = 2 * 1 + 2 * 3;
        expect(unknown.filter((recipient) => !droppedMidData(recipient)).length).toBeLessThanOrEqual(killedProcesses * 3 + lateAnswers.length);
        await sink.close();
      });
    }
  });
});
