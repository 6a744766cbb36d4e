import { spawn } from 'node:child_process';
import { bin } from './helpers.js';

/**
 * Runs the CLI on a real pseudo-terminal (util-linux's `script`), so that stdin and stdout are
 * TTYs as for an editor at a shell, and answers its questions: each answer is typed, as keystrokes
 * through the terminal's line discipline, once its prompt has appeared. Resolves with everything
 * the terminal showed.
 */
export function onTerminal(args: string[], options: { cwd: string; env?: Record<string, string>; answers?: Array<[prompt: string, answer: string]> }) {
  const command = ['node', bin, ...args].map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: options.cwd,
    // CI set would make the CLI behave as in a log (no bar, no questions).
    env: { ...process.env, CI: '', NO_COLOR: '1', TERM: 'xterm', ...options.env },
  });
  const answers = [...(options.answers ?? [])];
  let output = '';
  let seen = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    while (answers.length) {
      const at = output.indexOf(answers[0]![0], seen);
      if (at === -1) break;
      seen = at + answers[0]![0].length;
      child.stdin.write(`${answers.shift()![1]}\n`);
    }
  });
  return new Promise<{ code: number | null; output: string }>((done) => child.on('close', (code) => done({ code, output })));
}
