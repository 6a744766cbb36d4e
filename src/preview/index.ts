import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sendTest } from '../delivery/test-send.js';
import { openTransport } from '../delivery/transport.js';
import { sampleReaders, type SampleReader } from './readers.js';
import { startPreviewServer } from './server.js';
import { PreviewSession } from './session.js';

/** Starts the server first (its address is where the images point), then builds and watches. */
export async function startPreview(file: string, options: { port: number; host: string; configPath?: string; databaseUrl?: string }) {
  const session = new PreviewSession(file, options.configPath);
  await session.start();
  const smtpUrl = process.env.DIGEST_SMTP_URL;
  const transport = () => openTransport({ smtpUrl, outbox: join(session.config.root, 'outbox') });
  const server = await startPreviewServer(session, {
    host: options.host,
    port: options.port,
    readers: [...(await storeReaders(options.databaseUrl)), ...sampleReaders],
    transport: transport().description,
    async sendTest(reader) {
      const via = transport();
      try {
        const sent = await sendTest(session.state.edition!, session.config, { to: session.config.testAddresses, reader: reader.subscriber, transport: via });
        return { sent: sent.map(({ to }) => ({ to })), transport: via.description };
      } finally {
        via.close();
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
