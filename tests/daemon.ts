import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A system program the tests start (Dovecot, dnsmasq, spamd), from the Debian packages .ci/run
 * installs. Where one is missing its tests skip with a message saying how to install it; under CI
 * (which installs them) that is a failure instead.
 */
export function installed(paths: string[], packages: string, what: string): boolean {
  const missing = paths.filter((path) => !existsSync(path));
  if (!missing.length) return true;
  if (process.env.CI) throw new Error(`${missing.join(', ')} missing: .ci/run installs ${packages}`);
  console.warn(`skipping ${what}: ${missing.join(', ')} not installed (apt-get install ${packages})`);
  return false;
}

export interface Daemon {
  /** All it has written to stdout and stderr so far. */
  log(): string;
  /** Whether it has exited (a start that failed). */
  exited(): boolean;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it is gone. */
  stop(): Promise<void>;
}

/** Starts a server program in the foreground, its output kept for the test's error messages. */
export function startDaemon(command: string, args: string[], options: SpawnOptions = {}): Daemon {
  const output: string[] = [];
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    log: () => output.join(''),
    exited: gone,
    async stop() {
      if (gone()) return;
      child.kill('SIGTERM');
      const late = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(late);
    },
  };
}

/** A TCP port on 127.0.0.1 free now, for a server that binds it next. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
