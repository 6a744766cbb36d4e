import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sendTests } from '../delivery/test-send.js';
import { chooseRoutes, openDelivery } from '../delivery/routes.js';
import { UserError } from '../errors.js';
import { sampleReaders, type SampleReader } from './readers.js';
import { startPreviewServer } from './server.js';
import { PreviewSession } from './session.js';

/** Starts the server first (its address is where the images point), then builds and watches. */
export async function startPreview(file: string, options: { port: number; host: string; configPath?: string; databaseUrl?: string; offline?: boolean }) {
  const session = new PreviewSession(file, options.configPath);
  await session.start();
  // The test send goes where `digest send` would send: the same routes, factory and channel.
  const outbox = join(session.config.root, 'outbox');
  const routes = () => chooseRoutes({ config: session.config, outbox });
  const server = await startPreviewServer(session, {
    host: options.host,
    port: options.port,
    readers: [...(await storeReaders(options.databaseUrl)), ...sampleReaders],
    transport: describeRoutes(routes().map((route) => route.url)),
    offline: options.offline,
    async sendTest(reader) {
      const from = session.config.from;
      if (!from) throw new UserError('no sender: set from: in the config, or DIGEST_FROM', { code: 'missing-from' });
      const edition = session.state.edition!;
      const channel = await openDelivery({ config: session.config, outbox, from, slug: edition.meta.slug, concurrency: 1, timeoutMs: session.config.timeout * 1000 });
      try {
        const sent = await sendTests(edition, { from, config: session.config, to: session.config.testAddresses, channel, reader: { name: reader.subscriber.name ?? null, attributes: reader.subscriber.attributes ?? {} } });
        return { sent: sent.map(({ to }) => ({ to })), transport: channel.description };
      } finally {
        channel.close();
      }
    },
  });
  session.assetBase = `${server.url}files/`;
  await session.rebuild();
  await session.watch();

  return {
    url: server.url,
    session,
    openBrowser() {
      const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
      spawn(opener, [server.url], { stdio: 'ignore', detached: true }).on('error', () => undefined).unref();
    },
    async close() {
      await session.close();
      await server.close();
    },
  };
}

/** The routes as the page may show them before anything is opened: scheme and host, never a credential. */
function describeRoutes(urls: string[]): string {
  const shown = (url: string) => (url.startsWith('outbox:') ? `the outbox (${url.slice('outbox:'.length)})` : url.replace(/\/\/[^/@]*@/, '//').replace(/\?.*$/, ''));
  return urls.map(shown).join(', failing over to ');
}

/**
 * Real readers to preview with, when there is a list: the first twenty subscribed. A missing or
 * unreadable database is no reason not to preview; the samples remain.
 */
async function storeReaders(url: string | undefined): Promise<SampleReader[]> {
  const { databaseUrl, parseLocation } = await import('../audience/location.js');
  const resolved = databaseUrl(url);
  const location = parseLocation(resolved);
  if (location.kind === 'sqlite' && !existsSync(location.file)) return [];
  try {
    const { openSource } = await import('../audience/open.js');
    const source = await openSource(resolved);
    const readers: SampleReader[] = [];
    try {
      for await (const subscriber of source.list({ status: 'subscribed' })) {
        const first = subscriber.name?.trim().split(/\s+/)[0];
        readers.push({
          label: subscriber.name ? `${subscriber.name} <${subscriber.email}>` : subscriber.email,
          subscriber: { email: subscriber.email, name: subscriber.name ?? undefined, first_name: first || undefined, attributes: subscriber.attributes },
        });
        if (readers.length === 20) break;
      }
    } finally {
      await source.close();
    }
    return readers;
  } catch {
    return [];
  }
}
