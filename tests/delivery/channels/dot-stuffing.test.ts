import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Transform } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stuffChunk, stuffingTransform } from '../../../src/delivery/channels/dot-stuffing.js';
import { SmtpPool } from '../../../src/delivery/channels/smtp-pool.js';
import { startSink } from '../../smtp-sink.js';

// nodemailer does not export its DataStream; the test reaches it by file to hold ours to its output.
const require = createRequire(import.meta.url);
const DataStream = require(join(dirname(require.resolve('nodemailer')), 'smtp-connection', 'data-stream.js')) as new () => Transform;

/** The bytes a data stream writes for these chunks, with nodemailer's transform or ours. */
async function throughDataStream(chunks: Buffer[], ours: boolean): Promise<Buffer> {
  const stream = new DataStream() as Transform & { _transform: unknown };
  if (ours) stream._transform = stuffingTransform;
  const out: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((done) => stream.on('end', done));
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await ended;
  return Buffer.concat(out);
}

/** A deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

describe('dot-stuffing', () => {
  it('doubles a dot that begins a line, including the first line', () => {
    expect(stuffChunk(Buffer.from('.a\r\n.b\r\nc.d\r\n'), undefined).toString()).toBe('..a\r\n..b\r\nc.d\r\n');
  });

  it('turns bare CR and bare LF into CRLF, stuffing a dot that follows either', () => {
    expect(stuffChunk(Buffer.from('a\nb\rc\r.d\n.e'), undefined).toString()).toBe('a\r\nb\r\nc\r\n..d\r\n..e');
  });

  it('passes a message that needs nothing through without copying it', () => {
    const clean = Buffer.from('Subject: x\r\n\r\nline one\r\nline two.\r\n');
    expect(stuffChunk(clean, undefined)).toBe(clean);
  });

  it('gives the same bytes as nodemailer’s DataStream for any input, however it is chunked', async () => {
    const next = random(20261125);
    const alphabet = [0x0d, 0x0a, 0x2e, 0x61, 0x20];
    for (let round = 0; round < 400; round++) {
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(next() * 60) }, () => alphabet[Math.floor(next() * alphabet.length)]!));
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(next() * 8);
        chunks.push(bytes.subarray(at, at + size));
        at += size;
      }
      const theirs = await throughDataStream(chunks, false);
      const ours = await throughDataStream(chunks, true);
      expect(ours.toString('latin1'), JSON.stringify(bytes.toString('latin1'))).toBe(theirs.toString('latin1'));
    }
  });
});

describe('the pool’s SMTP connections', () => {
  let sink: Awaited<ReturnType<typeof startSink>>;
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(async () => {
    await sink.close();
  });

  it('deliver lines that begin with a dot, and bare line breaks, as the message meant them', async () => {
    const pool = new SmtpPool({ url: `smtp://127.0.0.1:${sink.port}`, size: 1 });
    const body = '.\r\n..two\r\nbare\nend.\r\n.';
    await pool.send({ from: 'a@example.org', to: ['b@example.org'] }, Buffer.from(`Subject: dots\r\n\r\n${body}`));
    pool.close();
    const raw = sink.received[0]!.raw.toString('latin1');
    expect(raw.slice(raw.indexOf('\r\n\r\n') + 4)).toBe('.\r\n..two\r\nbare\r\nend.\r\n.\r\n');
  });
});
