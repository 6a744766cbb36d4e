import type { CheckResult } from '../preflight/index.js';
import type { PreviewSession } from './session.js';

/** What the page shows of the preflight: the last run's results and the build they were for. */
export interface PreviewPreflightState {
  running: boolean;
  /** The build version the results are for: older than the page's, they are stale. */
  version?: number;
  results: { check: string; skipped?: string; notes: string[]; ms?: number; diagnostics: { code: string; severity: string; message: string; line?: number; file: string }[] }[];
  error?: string;
}

/**
 * The preflight on the preview's page: run when the editor asks (it fetches every link and starts a
 * browser, too slow for every keystroke), one run at a time, on the edition as last built.
 */
export class PreviewPreflight {
  state: PreviewPreflightState = { running: false, results: [] };
  private run?: Promise<void>;
  private readonly abort = new AbortController();

  constructor(
    private readonly session: PreviewSession,
    private readonly options: { offline: boolean; changed: () => void },
  ) {}

  /** Starts a run unless one is under way; resolves when it is over. */
  start(): Promise<void> {
    this.run ??= this.go().finally(() => {
      this.run = undefined;
      this.options.changed();
    });
    return this.run;
  }

  private async go(): Promise<void> {
    const edition = this.session.state.edition;
    const version = this.session.state.version;
    if (!edition || this.session.state.error) {
      this.state = { ...this.state, running: false, error: 'the issue does not build: fix it first' };
      return;
    }
    this.state = { running: true, version, results: [] };
    this.options.changed();
    const { preflightEdition } = await import('../preflight/issue.js');
    try {
      await preflightEdition(this.session.file, edition, this.session.config, {
        offline: this.options.offline,
        signal: this.abort.signal,
        onResult: (result: CheckResult) => {
          this.state.results.push({
            check: result.check,
            skipped: result.skipped,
            notes: result.notes ?? [],
            ms: result.ms,
            diagnostics: result.diagnostics.map(({ code, severity, message, line, file }) => ({ code, severity, message, line, file })),
          });
          this.options.changed();
        },
      });
      this.state.running = false;
    } catch (error) {
      this.state = { ...this.state, running: false, error: (error as Error).message };
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.run?.catch(() => undefined);
  }
}
