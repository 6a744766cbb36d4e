import { spawnSync } from 'node:child_process';
import { freePort, installed, startDaemon } from '../daemon.js';

export { freePort };
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SPAMASSASSIN = '/usr/bin/spamassassin';
export const SPAMC = '/usr/bin/spamc';
export const SPAMD = '/usr/sbin/spamd';

/**
 * Debian's SpamAssassin (the spamassassin, spamc and spamd packages). Where it is missing the spam
 * tests skip with a message; under CI (which installs it) a missing one is a failure instead.
 */
export function spamAssassinAvailable(): boolean {
  return installed([SPAMASSASSIN, SPAMC, SPAMD], 'spamassassin spamc spamd', 'SpamAssassin tests');
}

export interface Spamd {
  address: string;
  stop(): Promise<void>;
  log(): string;
}

/**
 * A spamd of the test's own on a free loopback port: local tests only (`--local`, there is no
 * network), no user configs (`-x`), a throwaway site config folder (the .pre files that load
 * SpamAssassin's plugins, copied from the system's, and no local.cf), one child. Run as root it
 * must be given a user to drop to (`-u nobody`), who must be able to read the folder.
 */
export async function startSpamd(): Promise<Spamd> {
  const dir = mkdtempSync(join(tmpdir(), 'digest-spamd-'));
  const site = join(dir, 'site');
  mkdirSync(site);
  const system = ['/etc/spamassassin', '/etc/mail/spamassassin'].find((folder) => existsSync(folder));
  if (!system) throw new Error('no SpamAssassin site config folder (/etc/spamassassin) to copy the .pre files from');
  for (const name of readdirSync(system)) if (name.endsWith('.pre')) copyFileSync(join(system, name), join(site, name));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const logFile = join(dir, 'spamd.log');
  const root = process.getuid?.() === 0;
  const args = [
    `--listen=127.0.0.1:${port}`,
    '--local',
    '--allowed-ips=127.0.0.1',
    `--pidfile=${join(dir, 'spamd.pid')}`,
    `--siteconfigpath=${site}`,
    '--nouser-config',
    '--max-children=1',
    '--min-children=1',
    `--helper-home-dir=${dir}`,
    '--syslog=stderr',
    ...(root ? ['--username=nobody'] : []),
  ];
  const daemon = startDaemon(SPAMD, args);
  const stop = async () => {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (daemon.exited()) {
      await stop();
      throw new Error(`spamd exited at start:\n${daemon.log()}`);
    }
    if ((await accepts(port)) && spawnSync(SPAMC, ['-x', '-K', '-d', '127.0.0.1', '-p', String(port), '--connect-retries', '1'], { timeout: 5000 }).status === 0) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`spamd did not answer within 45 s:\n${daemon.log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { address: `127.0.0.1:${port}`, stop, log: () => daemon.log() || (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
