import { EventEmitter } from 'node:events';
import { dirname, resolve } from 'node:path';
import type { FSWatcher } from 'chokidar';
import { loadConfig, type ResolvedConfig } from '../config.js';
import { isUserError } from '../errors.js';
import type { Diagnostic } from '../issue/diagnostic.js';
import { loadIssue } from '../issue/load.js';
import { prepareMjml } from '../render/compile.js';
import { renderIssue, TemplateCache, type Edition } from '../render/index.js';

/** What the page shows: the last good build, and why the latest save could not be built, if so. */
export interface PreviewState {
  version: number;
  edition?: Edition;
  error?: { message: string; file?: string; line?: number; code: string };
  buildMs?: number;
}

interface Reason {
  config: boolean;
  template: boolean;
}

/**
 * One issue, rebuilt in this warm process whenever it, its template or the config changes: mjml
 * stays loaded, and templates stay compiled until one of their files changes. Builds run one at a
 * time; changes that arrive during a build are folded into the next one.
 */
export class PreviewSession extends EventEmitter<{ build: [PreviewState] }> {
  state: PreviewState = { version: 0 };
  config!: ResolvedConfig;
  /** Where relative images point while previewing: this server's /files/. */
  assetBase?: string;
  /** The issue's folder: relative images are looked up from here. */
  readonly folder: string;
  private readonly templates = new TemplateCache();
  private watcher?: FSWatcher;
  private chain: Promise<void> = Promise.resolve();
  /** The working folder at start: the config is looked up from here on every reload. */
  private readonly cwd = process.cwd();
  private queued?: Reason;

  constructor(
    readonly file: string,
    private readonly configPath?: string,
  ) {
    super();
    this.folder = dirname(resolve(file));
  }

  /** Reads the config and starts loading mjml; the first build is the caller's `rebuild()`. */
  async start(): Promise<void> {
    prepareMjml();
    this.config = await loadConfig({ path: this.configPath, cwd: this.cwd });
  }

  rebuild(reason: Partial<Reason> = {}): Promise<void> {
    if (this.queued) {
      this.queued.config ||= Boolean(reason.config);
      this.queued.template ||= Boolean(reason.template);
      return this.chain;
    }
    this.queued = { config: Boolean(reason.config), template: Boolean(reason.template) };
    this.chain = this.chain.then(() => {
      const next = this.queued!;
      this.queued = undefined;
      return this.build(next);
    });
    return this.chain;
  }

  private async build(reason: Reason): Promise<void> {
    const started = performance.now();
    try {
      if (reason.config) this.config = await loadConfig({ path: this.configPath, cwd: this.cwd });
      if (reason.config || reason.template) this.templates.clear();
      // Links as written even with tracking.clicks: the editor's clicks while writing must not count.
      const edition = await renderIssue(await loadIssue(this.file), this.config, this.templates, { assetBase: this.assetBase, track: false });
      this.state = { version: this.state.version + 1, edition, buildMs: performance.now() - started };
    } catch (error) {
      if (!isUserError(error)) throw error;
      // The page keeps showing the last good edition behind the error.
      const { message, file, line, code } = error;
      this.state = { version: this.state.version + 1, edition: this.state.edition, error: { message, file, line, code } };
    }
    this.emit('build', this.state);
  }

  /** Watches the issue, every file of its template and the config; a change rebuilds. */
  async watch(): Promise<void> {
    const { watch } = await import('chokidar');
    const templateFiles = await this.templateFiles();
    const templates = new Set(templateFiles);
    const files = [resolve(this.file), ...templateFiles, ...(this.config.file ? [this.config.file] : [])];
    this.watcher = watch(files, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 30, pollInterval: 10 } });
    this.watcher.on('all', (_event, path) => {
      const full = resolve(path);
      void this.rebuild({ config: full === this.config.file, template: templates.has(full) });
    });
    await new Promise<void>((ready) => this.watcher!.once('ready', () => ready()));
  }

  private async templateFiles(): Promise<string[]> {
    const name = this.state.edition?.meta.template ?? this.config.template;
    try {
      return (await this.templates.get(name, this.config.templatesDir)).files.map((file) => resolve(file));
    } catch {
      return [];
    }
  }

  /** The findings to show: the build error, or the edition's diagnostics. */
  diagnostics(): Diagnostic[] {
    if (this.state.error) {
      const { code, message, file, line } = this.state.error;
      return [{ code, message, severity: 'error', file: file ?? this.file, line }];
    }
    return this.state.edition?.diagnostics ?? [];
  }

  async close(): Promise<void> {
    await this.watcher?.close();
  }
}
