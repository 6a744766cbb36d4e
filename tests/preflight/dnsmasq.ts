/**
 * A real DNS server for the tests: Debian's dnsmasq (dnsmasq-base), started on 127.0.0.1 on a free
 * port with a configuration file of its own in a temporary folder (nothing of the machine's
 * /etc/dnsmasq.conf, /etc/hosts or /etc/resolv.conf is read), and stopped after the suite. It answers
 * for the zones it is given and nothing else: NXDOMAIN for an unknown name under a zone, NODATA for
 * a known name without the type asked. Where dnsmasq is missing the suite skips with a message; under
 * CI (which installs it) that is a failure instead.
 *
 * Two small UDP servers of the test's own sit behind it for the failures a real server cannot be
 * made to give: one answers every question with SERVFAIL, one never answers (a timeout). dnsmasq
 * forwards the names under `failing` and `silent` to them.
 */
import { createSocket, type Socket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { installed, startDaemon, type Daemon } from '../daemon.js';

export const DNSMASQ = '/usr/sbin/dnsmasq';

export function dnsmasqAvailable(): boolean {
  return installed([DNSMASQ], 'dnsmasq-base', 'DNS tests');
}

/** What the server answers for: TXT records (each a list of strings), MX records, addresses. */
export class Zones {
  readonly lines: string[] = [];

  /** A TXT record of one string; a longer one is split into strings of 255 bytes, as DNS needs. */
  txt(name: string, text: string): this {
    return this.txtStrings(name, text.match(/.{1,255}/gs) ?? ['']);
  }

  txtStrings(name: string, strings: string[]): this {
    for (const string of strings) if (/["\\\n]/.test(string)) throw new Error(`not in a test zone: ${string}`);
    this.lines.push(`txt-record=${name},${strings.map((string) => `"${string}"`).join(',')}`);
    return this;
  }

  /** `host` "." is a null MX (RFC 7505). */
  mx(name: string, host: string, preference: number): this {
    this.lines.push(`mx-host=${name},${host},${preference}`);
    return this;
  }

  address(name: string, ip: string): this {
    this.lines.push(`host-record=${name},${ip}`);
    return this;
  }
}

export interface Dnsmasq {
  /** `127.0.0.1:port`, for DIGEST_DNS_SERVERS. */
  server: string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts dnsmasq for `zones`: every name under `authoritative` (e.g. `test`) is answered from the
 * zones alone; names under `failing` get SERVFAIL, names under `silent` never get an answer.
 */
export async function startDnsmasq(zones: Zones, options: { authoritative: string; failing?: string[]; silent?: string[] }): Promise<Dnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), 'digest-dnsmasq-'));
  const servfail = await udpServer((question, reply) => reply(servfailAnswer(question)));
  const silent = await udpServer(() => {});
  const lines = [
    `local=/${options.authoritative}/`,
    ...(options.failing ?? []).map((name) => `server=/${name}/127.0.0.1#${servfail.port}`),
    ...(options.silent ?? []).map((name) => `server=/${name}/127.0.0.1#${silent.port}`),
    // The readiness probe's record.
    `txt-record=ready.${options.authoritative},"ready"`,
    ...zones.lines,
  ];
  const file = join(dir, 'dnsmasq.conf');
  writeFileSync(file, `${lines.join('\n')}\n`);

  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeUdpPort();
    const daemon = startDaemon(
      DNSMASQ,
      [
        '--no-daemon',
        `--port=${port}`,
        '--listen-address=127.0.0.1',
        '--bind-interfaces',
        '--no-resolv',
        '--no-hosts',
        '--no-poll',
        '--pid-file=',
        '--log-facility=-',
        `--conf-file=${file}`,
      ],
    );
    const stop = daemon.stop;
    const server = `127.0.0.1:${port}`;
    try {
      await ready(server, `ready.${options.authoritative}`, daemon);
    } catch (error) {
      await stop();
      lastError = error as Error;
      // Another process took the port between our look and dnsmasq's bind: try another.
      if (/Address already in use/i.test(daemon.log())) continue;
      break;
    }
    return {
      server,
      log: daemon.log,
      stop: async () => {
        await stop();
        servfail.socket.close();
        silent.socket.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  servfail.socket.close();
  silent.socket.close();
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error('dnsmasq did not start');
}

/** A dnsmasq started before a suite's tests and stopped after them; the suite reads it through the getter. */
export function dnsmasqForSuite(zones: Zones, options: Parameters<typeof startDnsmasq>[1]): () => Dnsmasq {
  let dnsmasq: Dnsmasq | undefined;
  beforeAll(async () => {
    dnsmasq = await startDnsmasq(zones, options);
  });
  afterAll(() => dnsmasq?.stop());
  return () => dnsmasq!;
}

async function ready(server: string, probe: string, daemon: Daemon): Promise<void> {
  const resolver = new Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([server]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (daemon.exited()) throw new Error(`dnsmasq exited:\n${daemon.log()}`);
    try {
      await resolver.resolveTxt(probe);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`dnsmasq did not answer within 10 s (${(error as Error).message}):\n${daemon.log()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A UDP port free now, for a server that binds it next (dnsmasq takes the TCP port of the same number too). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

async function udpServer(answer: (question: Buffer, reply: (message: Buffer) => void) => void): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  socket.on('message', (question, peer) => answer(question, (message) => socket.send(message, peer.port, peer.address)));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  return { socket, port: socket.address().port };
}

/** The question sent back with QR set and RCODE 2 (SERVFAIL): the header and the question section, no records. */
function servfailAnswer(question: Buffer): Buffer {
  let end = 12;
  while (end < question.length && question[end] !== 0) end += question[end]! + 1;
  end += 5; // the root label's zero, QTYPE, QCLASS
  const reply = Buffer.from(question.subarray(0, end));
  reply[2] = 0x80 | (question[2]! & 0x79); // QR, the opcode and RD as asked
  reply[3] = 0x80 | 2; // RA, SERVFAIL
  reply.writeUInt16BE(1, 4); // one question
  reply.writeUInt16BE(0, 6);
  reply.writeUInt16BE(0, 8);
  reply.writeUInt16BE(0, 10);
  return reply;
}
