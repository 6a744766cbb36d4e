/** A real `digest serve` in this process, on 127.0.0.1 and a free port, over a real database. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import { openStore } from '../../src/audience/open.js';
import type { SubscriberStore } from '../../src/audience/store.js';
import { loadConfig, type ResolvedConfig } from '../../src/config.js';
import { sealUnsubscribe, unsubscribeKey, type UnsubscribeKey } from '../../src/delivery/unsubscribe.js';
import { startServer, type LogEntry, type RunningServer } from '../../src/serve/index.js';
import { startSignup } from '../../src/signup/service.js';
import type { Webhooks } from '../../src/bounces/webhooks/index.js';
import { tempDir } from '../audience/databases.js';
import { clickKey, readerKey } from '../../src/tracking/token.js';

export const SECRET = 'test secret: at least thirty-two characters long';

export interface Served {
  url: string;
  server: RunningServer;
  store: SubscriberStore;
  config: ResolvedConfig;
  key: UnsubscribeKey;
  logs: LogEntry[];
  root: string;
  /** The path of this reader's unsubscribe link, as a sent message carries it. */
  linkFor(email: string, issue?: string): string;
  /** Adds subscribed readers. */
  subscribe(...emails: string[]): Promise<void>;
  /** Stops the server (and the sign-up's SMTP connections) now rather than after the test. */
  stop(): Promise<void>;
  /** The sign-up service, when `signupVia` turned it on. */
  signup?: import('../../src/signup/service.js').RunningSignup;
}

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

export const CONFIG = `name: The Test Gazette
language: en
baseUrl: https://gazette.example/news
`;

/** A project folder with a config and (optionally) built editions, a database, and the server on it. */
export async function serve(
  databaseUrl: string,
  options: {
    config?: string;
    editions?: FakeEdition[];
    failingStore?: boolean;
    /** Sign-up on, its confirmations sent through this route. */
    signupVia?: string;
    /** Files in the project folder beside the config (a welcome issue, say). */
    files?: Record<string, string>;
    /** Providers' webhooks, made from the project's config (src/bounces/webhooks/index.ts: webhooksFrom). */
    webhooks?: (config: ResolvedConfig) => Webhooks | undefined;
    /** The report at <base>/report for this token (DIGEST_REPORT_TOKEN). */
    reportToken?: string;
  } = {},
): Promise<Served> {
  const root = await tempDir();
  writeFileSync(join(root, 'digest.config.yaml'), options.config ?? CONFIG);
  for (const [name, text] of Object.entries(options.files ?? {})) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  for (const edition of options.editions ?? []) writeEdition(join(root, 'build'), edition);
  const config = await loadConfig({ cwd: root });
  const real = await openStore(databaseUrl, { create: true });
  // A database that fails every call, as one whose server went away does.
  const store: SubscriberStore = options.failingStore
    ? new Proxy(real, {
        get: (target, name, receiver) =>
          name === 'close' || typeof Reflect.get(target, name, receiver) !== 'function'
            ? Reflect.get(target, name, receiver)
            : () => Promise.reject(new Error('connection terminated unexpectedly (a test failure)')),
      })
    : real;
  const key = unsubscribeKey(SECRET);
  const logs: LogEntry[] = [];
  const signup = options.signupVia ? await startSignup(config, store, { secret: SECRET, delivery: { via: [options.signupVia] }, log: (entry) => logs.push(entry) }) : undefined;
  const webhooks = options.webhooks?.(config);
  const clicks = { link: clickKey(SECRET), reader: readerKey(SECRET) };
  const server = await startServer({ config, store, key, host: '127.0.0.1', port: 0, log: (entry) => logs.push(entry), siteTtlMs: 0, signup, webhooks, clicks, reportToken: options.reportToken });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await server.close(1000);
      await signup?.close();
      await real.close();
    })());
  running.push(stop);
  const prefix = new URL(config.unsubscribeUrl!).pathname;
  return {
    url: server.url,
    stop,
    signup,
    server,
    store,
    config,
    key,
    logs,
    root,
    linkFor: (email, issue = '2024-03-08-weekly') => `${prefix}/${sealUnsubscribe({ email, issue }, key)}`,
    async subscribe(...emails) {
      await store.upsert(
        emails.map((email) => ({ email, international: false, status: 'subscribed' as const })),
        { source: 'test' },
      );
    },
  };
}

export interface FakeEdition {
  slug: string;
  title: string;
  date: string;
  preheader?: string;
  send_at?: string | null;
  author?: string | null;
  web?: string;
}

/** What `digest build` writes for an issue, as far as the archive reads it. */
export function writeEdition(outDir: string, edition: FakeEdition): void {
  const folder = join(outDir, edition.slug);
  mkdirSync(folder, { recursive: true });
  const manifest = {
    slug: edition.slug,
    title: edition.title,
    subject: edition.title,
    preheader: edition.preheader ?? `Summary of ${edition.title}`,
    date: edition.date,
    send_at: edition.send_at ?? null,
    audience: [],
    author: edition.author ?? null,
  };
  writeFileSync(join(folder, 'edition.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(folder, 'web.html'), edition.web ?? `<!doctype html><html><head><title>${edition.title}</title></head><body><h1>web version of ${edition.slug}</h1></body></html>`);
  writeFileSync(join(folder, 'email.html'), '<html></html>');
}

/** A body that is not HTML-escaped text of a stack trace. */
export function hasStackTrace(text: string): boolean {
  return /\n\s+at .+\(.*:\d+:\d+\)|at [\w.<>]+ \(file:|node:internal|\.ts:\d+/.test(text);
}
