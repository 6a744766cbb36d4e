import { readFile } from 'node:fs/promises';
import type { ResolvedConfig } from '../config.js';
import { planSite, type SitePlan } from '../archive/plan.js';

const types: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  xml: 'application/atom+xml; charset=utf-8',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
};

export function contentType(path: string): string {
  return types[path.slice(path.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The archive as `digest serve` publishes it: the same plan `digest archive` writes, made from the
 * build folder and remade at most every `ttlMs` when asked for, so a `digest build` while the server
 * runs shows up without a restart, and a scheduled issue appears once its send_at has passed.
 */
export class LiveSite {
  private current?: { plan: SitePlan; at: number };
  private pending?: Promise<SitePlan>;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly ttlMs = 5000,
  ) {}

  async plan(): Promise<SitePlan> {
    if (this.current && Date.now() - this.current.at < this.ttlMs) return this.current.plan;
    this.pending ??= planSite(this.config)
      .then((plan) => {
        this.current = { plan, at: Date.now() };
        return plan;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /** The bytes of a site path (`index.html`, `issues/x/index.html`), or undefined. */
  async file(path: string): Promise<Buffer | undefined> {
    const file = (await this.plan()).files.get(path);
    if (!file) return undefined;
    if (file.kind === 'text') return Buffer.from(file.data, 'utf8');
    try {
      return await readFile(file.from);
    } catch {
      return undefined;
    }
  }

  async has(path: string): Promise<boolean> {
    return (await this.plan()).files.has(path);
  }
}
