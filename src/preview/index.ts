import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { sendTest } from '../delivery/test-send.js';
import { openTransport } from '../delivery/transport.js';
import { startPreviewServer } from './server.js';
import { PreviewSession } from './session.js';

/** Starts the server first (its address is where the images point), then builds and watches. */
export async function startPreview(file: string, options: { port: number; host: string; configPath?: string }) {
  const session = new PreviewSession(file, options.configPath);
  await session.start();
  const smtpUrl = process.env.DIGEST_SMTP_URL;
  const transport = () => openTransport({ smtpUrl, outbox: join(session.config.root, 'outbox') });
  const server = await startPreviewServer(session, {
    host: options.host,
    port: options.port,
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
