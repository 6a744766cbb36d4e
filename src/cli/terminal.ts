import { createInterface } from 'node:readline/promises';
import type { SendHooks } from '../delivery/run.js';
import type { Progress } from '../delivery/send.js';
import { paint } from './print.js';

/**
 * The send's conversation with the person at the terminal: the confirmation, and progress as a
 * bar with rate and ETA on a terminal, or a plain line every few seconds in CI and logs. All of it
 * on stderr, so --json's stdout stays one document.
 */
export function terminalHooks(options: { yes: boolean; json: boolean }): SendHooks & { finish(): void } {
  const out = process.stderr;
  const colour = paint(out);
  const fancy = Boolean(out.isTTY) && !process.env.CI;
  // The bar's module is loaded up front, so that the bar is drawn by the progress calls themselves
  // (synchronously): one bar, stopped by finish() before the summary is printed.
  let barModule: typeof import('cli-progress') | undefined;
  const loadingBar = fancy ? import('cli-progress').then((module) => (barModule = module)) : undefined;
  let bar: Bar | undefined;
  let finished = false;
  let lastLine = 0;
  let startedAt = 0;

  return {
    async confirm({ subject, readers, via, early }) {
      if (options.yes) return true;
      if (!process.stdin.isTTY || !out.isTTY) {
        throw new (await import('../errors.js')).UserError(`about to send "${subject}" to ${readers.toLocaleString('en')} readers via ${via}: add --yes to confirm without a terminal`, {
          code: 'confirmation-required',
        });
      }
      const prompt = createInterface({ input: process.stdin, output: out });
      try {
        const note = early ? ` now, though ${early}` : '';
        const answer = await prompt.question(`Send "${subject}" to ${readers.toLocaleString('en')} readers via ${via}${note}? [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      } catch (error) {
        // Ctrl-C at the question (readline turns it into an AbortError): stop as a shell would,
        // before anything is sent; the readers stay pending in the journal for a later run.
        if ((error as Error).name !== 'AbortError') throw error;
        out.write('\n');
        process.exit(130);
      } finally {
        prompt.close();
      }
    },
    async started(issue, subject, readers, via) {
      await loadingBar;
      startedAt = performance.now();
      out.write(`${colour.bold('sending')} "${subject}" (${issue}) to ${readers.toLocaleString('en')} readers via ${via}\n`);
    },
    progress(_issue, progress) {
      if (fancy) {
        if (finished || !barModule) return;
        bar ??= makeBar(barModule, progress.total);
        bar.update(progress.done, { sent: progress.sent, failed: progress.failed, deferred: progress.deferred });
        return;
      }
      const now = performance.now();
      if (now - lastLine >= 5000 || progress.done === progress.total) {
        lastLine = now;
        out.write(`${line(progress, (now - startedAt) / 1000)}\n`);
      }
    },
    notice(message) {
      out.write(`${colour.yellow('note')} ${message}\n`);
    },
    finish() {
      finished = true;
      bar?.stop();
    },
  };
}

interface Bar {
  update(value: number, payload?: object): void;
  stop(): void;
}

function makeBar({ SingleBar, Presets }: typeof import('cli-progress'), total: number): Bar {
  const bar = new SingleBar(
    { format: ' {bar} {percentage}% | {value}/{total} | {sent} sent, {failed} failed, {deferred} deferred | ETA {eta_formatted}', stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  bar.start(total, 0, { sent: 0, failed: 0, deferred: 0 });
  return bar;
}

function line(progress: Progress, seconds: number): string {
  const rate = seconds > 0 ? progress.sent / seconds : 0;
  return `${progress.done}/${progress.total} done: ${progress.sent} sent, ${progress.failed} failed, ${progress.deferred} deferred (${rate.toFixed(0)}/s)`;
}
