import type { Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterAll, beforeAll } from 'vitest';

/**
 * What the sink does with one message, by recipient and how many times that recipient was tried:
 * - `accept` (or a promise of it, to answer late); `{ code, message }` to refuse the message;
 * - `drop`: the line goes dead part-way through the message; `drop-before-data`: at RCPT TO;
 *   `drop-after-data`: once the whole message is in, instead of answering;
 * - `silent-before-data`: RCPT TO is never answered; `silent`: the whole message comes in and the
 *   end of DATA is never answered.
 */
export type Behaviour = (recipient: string, attempt: number) => Verdict | Promise<'accept'>;
type Verdict = 'accept' | 'drop' | 'drop-before-data' | 'drop-after-data' | 'silent-before-data' | 'silent' | { code: number; message: string };

export interface Received {
  recipient: string;
  /** The envelope sender (MAIL FROM): where bounces of this message go. */
  envelopeFrom: string;
  /** When the sink answered 250 (Date.now()). */
  at: number;
  raw: Buffer;
  parsed: ParsedMail;
}

/**
 * A real SMTP server on 127.0.0.1 that keeps what it accepts and can misbehave on purpose:
 * greylist (451), bounce (550 5.1.1), drop the connection in the middle of DATA.
 */
/** A sink started before a suite's tests and closed after them; the suite reads it through the getter. */
export function sinkForSuite(options?: Parameters<typeof startSink>[0]): () => Awaited<ReturnType<typeof startSink>> {
  let sink: Awaited<ReturnType<typeof startSink>> | undefined;
  beforeAll(async () => {
    sink = await startSink(options);
  });
  afterAll(() => sink?.close());
  return () => sink!;
}

export async function startSink(options: { behaviour?: Behaviour; smtputf8?: boolean; auth?: { user: string; pass: string }; parse?: boolean } = {}) {
  const received: Received[] = [];
  /** Recipients whose whole message came in and was never answered: a client cannot know their fate. */
  const unanswered: string[] = [];
  const attempts = new Map<string, number>();
  const sockets = new Map<number, Socket>();
  /** The verdict on each connection's current message, decided at RCPT TO. */
  const verdicts = new Map<number, ReturnType<Behaviour>>();
  const behaviour = options.behaviour ?? (() => 'accept' as const);

  const settings: SMTPServerOptions = {
    // Its default reverse lookup of the client would send a DNS query off this machine.
    disableReverseLookup: true,
    authOptional: !options.auth,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    hideSMTPUTF8: !options.smtputf8,
    size: 10 * 1024 * 1024,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.auth?.user && auth.password === options.auth?.pass) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, session, callback) {
      const recipient = address.address;
      const attempt = (attempts.get(recipient) ?? 0) + 1;
      attempts.set(recipient, attempt);
      let verdict: ReturnType<Behaviour>;
      try {
        verdict = behaviour(recipient, attempt);
      } catch (error) {
        verdict = { code: 554, message: String(error) };
      }
      verdicts.set(session.remotePort, verdict);
      if (verdict === 'drop-before-data') return void sockets.get(session.remotePort)?.destroy();
      if (verdict === 'silent-before-data') return;
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      const recipient = session.envelope.rcptTo[0]!.address;
      const verdict = verdicts.get(session.remotePort) ?? 'accept';
      if (verdict === 'drop') {
        // Part-way through the message the line goes dead: no reply is ever sent.
        stream.once('data', () => sockets.get(session.remotePort)?.destroy());
        stream.resume();
        return;
      }
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', async () => {
        if (verdict === 'silent' || verdict === 'drop-after-data') {
          unanswered.push(recipient);
          if (verdict === 'drop-after-data') sockets.get(session.remotePort)?.destroy();
          return;
        }
        const outcome = await verdict;
        if (outcome !== 'accept') {
          const { code, message } = outcome as { code: number; message: string };
          return callback(Object.assign(new Error(message), { responseCode: code }));
        }
        const raw = Buffer.concat(chunks);
        // Parsing costs the sink's thread a millisecond a message: suites that only count skip it.
        const parsed = options.parse === false ? (undefined as unknown as ParsedMail) : await simpleParser(raw);
        received.push({ recipient, envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', at: Date.now(), raw, parsed });
        callback(null, `queued as ${received.length}`);
      });
    },
  };
  const server = new SMTPServer(settings);
  // A client killed mid-conversation resets its connection: expected here, not a failure.
  server.on('error', () => {});
  (server as unknown as { server: import('node:net').Server }).server.on('connection', (socket: Socket) => {
    sockets.set(socket.remotePort!, socket);
    socket.on('close', () => sockets.delete(socket.remotePort!));
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', () => ready()));
  const port = (server.server.address() as { port: number }).port;
  const credentials = options.auth ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@` : '';
  return {
    url: `smtp://${credentials}127.0.0.1:${port}`,
    port,
    received,
    unanswered,
    attempts,
    /** How many messages each recipient got. */
    perRecipient(): Map<string, number> {
      const counts = new Map<string, number>();
      for (const message of received) counts.set(message.recipient, (counts.get(message.recipient) ?? 0) + 1);
      return counts;
    },
    close: () => new Promise<void>((closed) => server.close(() => closed())),
  };
}
