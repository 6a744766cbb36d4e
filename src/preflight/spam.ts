import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { dkimFromEnvironment } from '../delivery/dkim.js';
import { MessageFactory } from '../delivery/message.js';
import { unsubscribeKey } from '../delivery/unsubscribe.js';
import { readerKey } from '../tracking/token.js';
import { bounceKey } from '../bounces/verp.js';
import { isUserError, UserError } from '../errors.js';
import type { Diagnostic } from '../issue/diagnostic.js';
import type { CheckResult, PreflightCheck, PreflightContext } from './check.js';

/**
 * SpamAssassin's score of the message exactly as `send` builds it for one reader: the same factory
 * (src/delivery/message.ts), headers and all, DKIM-signed when a key is configured. Scored by a
 * running spamd through the real `spamc` client when one answers (DIGEST_SPAMD, default
 * 127.0.0.1:783), else by the `spamassassin` command with local tests only (`-L`: there may be no
 * network, and a DNS blocklist that cannot be reached only makes the run slow). Neither installed:
 * skipped, and said so.
 */
export const spamCheck: PreflightCheck = {
  id: 'spam',
  title: 'spam filter score (SpamAssassin)',
  run: (context) => checkSpam(context),
};

/** How long SpamAssassin may take over one message, loading its rules included. */
export const SPAM_TIMEOUT_MS = 30_000;
const DEFAULT_SPAMD = '127.0.0.1:783';
const NOT_INSTALLED = 'SpamAssassin is not installed (apt-get install spamassassin)';

export interface SpamRule {
  name: string;
  points: number;
  description: string;
}

export interface SpamReport {
  score: number;
  required: number;
  rules: SpamRule[];
}

export interface SpamOptions {
  /** PATH, DIGEST_SPAMD, DIGEST_SECRET and the DKIM settings are read from here (default: process.env). */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export async function checkSpam(context: PreflightContext, options: SpamOptions = {}): Promise<CheckResult> {
  const env = options.env ?? process.env;
  const file = context.issue.file;
  const scanner = await findScanner(env);
  if ('skipped' in scanner) return { check: 'spam', diagnostics: [], skipped: scanner.skipped };

  let raw: Buffer;
  try {
    raw = await sampleMessage(context, env);
  } catch (error) {
    // A missing sender, a DKIM key that cannot be read or cannot sign: said, not thrown at the run.
    const code = isUserError(error) ? error.code : 'spam-check-failed';
    return { check: 'spam', diagnostics: [{ code, severity: 'error', message: `cannot build the message to score: ${(error as Error).message}`, file }] };
  }

  const diagnostics: Diagnostic[] = [];
  let output: string;
  try {
    output = await scanner.scan(raw, options.timeoutMs ?? SPAM_TIMEOUT_MS, context.signal);
  } catch (error) {
    return { check: 'spam', diagnostics: [...diagnostics, failed(`${scanner.name} failed: ${(error as Error).message}`, file)], notes: scanner.notes };
  }
  const report = parseSpamReport(output);
  if (!report) {
    const first = output.trim().split('\n').slice(-1)[0]?.slice(0, 200) || 'nothing';
    return { check: 'spam', diagnostics: [...diagnostics, failed(`${scanner.name} gave no score that could be read (it printed: ${first})`, file)], notes: scanner.notes };
  }
  return { check: 'spam', diagnostics: [...diagnostics, ...judge(report, file)], notes: [...notesOf(report, context, scanner.name), ...scanner.notes] };
}

function failed(message: string, file: string): Diagnostic {
  return { code: 'spam-check-failed', severity: 'error', message, file };
}

/** At or over SpamAssassin's own threshold: an error. Over half of it: a warning, as little else is left. */
function judge(report: SpamReport, file: string): Diagnostic[] {
  const top = report.rules
    .filter((rule) => rule.points > 0)
    .sort((a, b) => b.points - a.points)
    .slice(0, 3)
    .map((rule) => `${rule.name} ${rule.points}`)
    .join(', ');
  const because = top ? ` (most from ${top})` : '';
  if (report.score >= report.required) {
    return [{ code: 'spam-score', severity: 'error', message: `SpamAssassin scores this message ${fmt(report.score)}, at or over the ${fmt(report.required)} that marks it as spam${because}`, file }];
  }
  if (report.score >= report.required / 2) {
    return [{ code: 'spam-score', severity: 'warning', message: `SpamAssassin scores this message ${fmt(report.score)}, over half the ${fmt(report.required)} that marks it as spam${because}`, file }];
  }
  return [];
}

function notesOf(report: SpamReport, context: PreflightContext, scanner: string): string[] {
  const subjectLine = context.issue.lineOf('subject') ?? context.issue.lineOf('title');
  const notes = [`score ${fmt(report.score)} (${fmt(report.required)} marks spam), by ${scanner}`];
  for (const rule of [...report.rules].sort((a, b) => b.points - a.points)) {
    if (rule.points <= 0) continue;
    // Only the rules whose source is plain: the subject's are about the subject: line.
    const line = /^(SUBJ_|SUBJECT_)|_SUBJ(ECT)?(_|$)/.test(rule.name) && subjectLine ? ` (line ${subjectLine})` : '';
    notes.push(`${fmt(rule.points)} ${rule.name} ${rule.description}${line}`);
  }
  return notes;
}

function fmt(points: number): string {
  return points.toFixed(1);
}

/**
 * The message `send` would build for one reader: the first test address, or a placeholder. Not a
 * test message (no [TEST] mark, no X-Digest-Test header): a real send's. The unsubscribe link is
 * sealed with DIGEST_SECRET when set, else with a throwaway key, as test-send.ts does.
 */
export async function sampleMessage(context: PreflightContext, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const { config, edition } = context;
  const from = config.from;
  if (!from) throw new UserError('no sender: set from: in the config or DIGEST_FROM', { code: 'missing-from' });
  const secret = env.DIGEST_SECRET;
  const factory = new MessageFactory(edition, {
    from,
    newsletter: config.name,
    unsubscribeBase: config.unsubscribeUrl ?? 'https://unsubscribe.invalid/unsubscribe',
    unsubscribeMailto: config.unsubscribeMailto,
    key: unsubscribeKey(secret && secret.length >= 32 ? secret : randomBytes(32).toString('hex')),
    bounce: config.bounceAddress && secret && secret.length >= 32 ? { address: config.bounceAddress, key: bounceKey(secret) } : undefined,
    // A scanner sees a reader's link as it will be; whose it is does not matter here.
    readerKey: readerKey(randomBytes(32).toString('hex')),
  });
  const to = config.testAddresses[0] ?? 'reader@example.com';
  const message = factory.build({ email: to, name: null, attributes: {} }, `preflight:${to}`);
  const dkim = dkimFromEnvironment(factory.senderAddress.split('@')[1]!.toLowerCase(), env);
  return dkim ? dkim.sign(message) : message.raw;
}

interface Scanner {
  /** How the notes name it: `spamd at 127.0.0.1:783 (spamc)`, `spamassassin -L`. */
  name: string;
  notes: string[];
  scan(raw: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<string>;
}

/** spamc with a spamd that answers, else the spamassassin command, else the reason neither runs. */
export async function findScanner(env: NodeJS.ProcessEnv = process.env): Promise<Scanner | { skipped: string }> {
  const spamc = await which('spamc', env);
  const spamassassin = await which('spamassassin', env);
  const address = parseHostPort(env.DIGEST_SPAMD?.trim() || DEFAULT_SPAMD);
  const notes: string[] = [];
  if (spamc) {
    if (await answers(address.host, address.port)) {
      const where = `${address.host}:${address.port}`;
      return {
        name: `spamd at ${where}`,
        notes,
        scan: (raw, timeoutMs, signal) =>
          run(
            spamc,
            [
              // -x: no "safe fallback" (which prints 0/0 and exits 0 when spamd fails); -R: the full
              // report; -l: its errors on stderr rather than in syslog, for the error line.
              '-x', '-R', '-l',
              '-d', address.host, '-p', String(address.port),
              '-t', String(Math.ceil(timeoutMs / 1000)), '-n', '5', '--connect-retries', '1', '--filter-retries', '1',
              // spamc's default limit is 500 KB, past which it sends nothing to spamd and reports 0.
              '-s', String(Math.max(512_000, raw.length + 65_536)),
            ],
            raw,
            timeoutMs,
            signal,
            // With -R, spamc exits 1 for a message it judges spam: that is an answer, not a failure.
            [0, 1],
          ),
      };
    }
    if (env.DIGEST_SPAMD?.trim()) notes.push(`no spamd answered at ${address.host}:${address.port} (DIGEST_SPAMD)${spamassassin ? ': scored with the spamassassin command instead' : ''}`);
  }
  if (spamassassin) {
    return {
      name: 'spamassassin -L (local tests only)',
      notes,
      // -t: the message and then the report; -L: no network tests; -x: no ~/.spamassassin/user_prefs created.
      scan: (raw, timeoutMs, signal) => run(spamassassin, ['-t', '-L', '-x'], raw, timeoutMs, signal, [0]),
    };
  }
  if (env.DIGEST_SPAMD?.trim() && !spamc) return { skipped: `${NOT_INSTALLED}: DIGEST_SPAMD is set, but the spamc client is not installed (apt-get install spamc)` };
  if (env.DIGEST_SPAMD?.trim()) return { skipped: `${NOT_INSTALLED}, and no spamd answered at ${address.host}:${address.port} (DIGEST_SPAMD)` };
  return { skipped: NOT_INSTALLED };
}

/** `host:port`, `[::1]:783`, or a host alone (port 783). */
export function parseHostPort(value: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 783) };
  const plain = /^([^:]+)(?::(\d+))?$/.exec(value);
  if (plain) return { host: plain[1]!, port: Number(plain[2] ?? 783) };
  return { host: value, port: 783 };
}

/** Whether anything accepts a TCP connection there within a second (spamc itself would retry for seconds). */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function which(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const folder of (env.PATH ?? '').split(delimiter)) {
    if (!folder) continue;
    const candidate = join(folder, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs a command with the message on its standard input; its output, or an error naming what went wrong. */
function run(command: string, args: string[], input: Buffer, timeoutMs: number, signal: AbortSignal | undefined, okCodes: number[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const abort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', abort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.stdin.on('error', () => {}); // it may exit before reading everything; the exit code says why
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      const stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) return reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`));
      if (signal?.aborted) return reject(new Error('stopped'));
      if (code === null || !okCodes.includes(code)) {
        const reason = lastLines(stderr) || (code !== null && sysexits[code]) || `exit code ${code ?? 'none (killed)'}`;
        return reject(new Error(reason));
      }
      resolve(Buffer.concat(out).toString('utf8'));
    });
    child.stdin.end(input);
  });
}

/** What spamc's exit codes (sysexits.h) mean, for when it says nothing else. */
const sysexits: Record<number, string> = {
  64: 'a wrong option (EX_USAGE)',
  65: 'the message was refused (EX_DATAERR)',
  69: 'spamd is unavailable (EX_UNAVAILABLE)',
  70: 'an internal error (EX_SOFTWARE)',
  74: 'a read or write failed (EX_IOERR)',
  75: 'a temporary failure (EX_TEMPFAIL)',
  76: 'spamd did not answer in its protocol (EX_PROTOCOL)',
  77: 'not allowed (EX_NOPERM)',
};

/** The last meaningful line of stderr, without the timestamp and pid SpamAssassin puts before it. */
function lastLines(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.replace(/^\w{3}\s+\d+\s[\d:.]+\s\[\d+\]\s/, '').trim())
    .filter(Boolean);
  return lines.slice(-2).join(' / ').slice(0, 300);
}

/**
 * Reads SpamAssassin's report: the template of its `report` option, which both `spamc -R` (after
 * its first line, `score/required`) and `spamassassin -t` (at the very end, after the message)
 * print. Only the parts that every stock template has are read:
 *
 *     Content analysis details:   (3.3 points, 5.0 required)
 *
 *      pts rule name              description
 *     ---- ---------------------- --------------------------------------------------
 *     -0.0 NO_RECEIVED            Informational: message has no Received headers
 *      1.0 US_DOLLARS_3           BODY: Mentions millions of $ ($NN,NNN,NNN.NN)
 *
 * A description that does not fit goes on in the next line, indented. No npm package parses this
 * soundly (the `spamc` package's parser expects an older layout), so this is the minimal reading.
 */
export function parseSpamReport(output: string): SpamReport | undefined {
  const text = output.replace(/\r\n/g, '\n');
  const lines = text.split('\n');
  let score: number | undefined;
  let required: number | undefined;

  const first = /^\s*(-?\d+(?:\.\d+)?)\s*\/\s*(-?\d+(?:\.\d+)?)\s*$/.exec(lines[0] ?? '');
  if (first) {
    score = Number(first[1]);
    required = Number(first[2]);
  }

  let at = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/^Content analysis details:/.test(lines[i]!)) {
      at = i;
      break;
    }
  }
  const rules: SpamRule[] = [];
  if (at !== -1) {
    const summary = /\((-?\d+(?:\.\d+)?) points?, (-?\d+(?:\.\d+)?) required\)/.exec(lines[at]!);
    if (summary) {
      score ??= Number(summary[1]);
      required ??= Number(summary[2]);
    }
    let i = at + 1;
    while (i < lines.length && !/^-{3,} -{3,} -{3,}/.test(lines[i]!)) i++;
    for (i++; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line.trim()) break;
      const row = /^\s*(-?\d+(?:\.\d+)?)\s+([A-Za-z0-9_.]+)\s+(.*)$/.exec(line);
      if (row) {
        rules.push({ points: Number(row[1]), name: row[2]!, description: row[3]!.trim() });
      } else if (/^\s/.test(line) && rules.length) {
        const last = rules[rules.length - 1]!;
        last.description = `${last.description} ${line.trim()}`.trim();
      } else {
        break;
      }
    }
  }
  if (score === undefined || required === undefined || Number.isNaN(score) || Number.isNaN(required)) return undefined;
  return { score, required, rules };
}
