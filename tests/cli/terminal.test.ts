import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { project, SECRET } from '../delivery/project.js';
import { bin } from '../helpers.js';
import { startSink } from '../smtp-sink.js';

/**
 * `digest send` on a real terminal: util-linux's `script` runs it on a pseudo-terminal, so stdin
 * and stderr are TTYs as they are for an editor at a shell; what the test types goes through the
 * terminal's line discipline like keystrokes.
 */
function onTerminal(root: string, args: string[], answer: string) {
  const command = ['node', bin, ...args].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: root,
    // CI set would make the CLI print plain progress lines instead of the bar.
    env: { ...process.env, CI: '', NO_COLOR: '1', DIGEST_SECRET: SECRET, TERM: 'xterm' },
  });
  let output = '';
  let answered = false;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (!answered && output.includes('[y/N]')) {
      answered = true;
      child.stdin.write(`${answer}\n`);
    }
  });
  return new Promise<{ code: number | null; output: string }>((done) => child.on('close', (code) => done({ code, output })));
}

describe('digest send at a terminal', () => {
  let sink: Awaited<ReturnType<typeof startSink>>;
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(() => sink.close());

  it('asks before sending, and sends nothing when the answer is no', async () => {
    const root = project();
    const result = await onTerminal(root, ['send', 'issues/week.md', '--to', 'readers.csv', '--db', `sqlite:${join(root, 'digest.db')}`, '--smtp', sink.url], 'n');
    expect(result.output).toContain(`Send "Bridge reopens; budget vote Tuesday" to 3 readers via smtp://127.0.0.1:${sink.port}? [y/N]`);
    expect(result.output).toContain('not sent: week');
    expect(sink.received).toHaveLength(0);
  }, 30_000);

  it('sends once the answer is yes, with a progress bar', async () => {
    const root = project();
    const result = await onTerminal(root, ['send', 'issues/week.md', '--to', 'readers.csv', '--db', `sqlite:${join(root, 'digest.db')}`, '--smtp', sink.url], 'y');
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/100% \| 3\/3 \| 3 sent, 0 failed, 0 deferred/);
    // One bar, finished before the summary line.
    expect(result.output.lastIndexOf('100% |')).toBeLessThan(result.output.indexOf('3 sent now'));
    expect(result.output.match(/ 0% \|/g)).toHaveLength(1);
    expect(sink.received.map((message) => message.recipient).sort()).toEqual(['ana@example.org', 'bo@example.org', 'cy@example.org']);
  }, 30_000);
});
