import { createReadStream, readFileSync, statSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { mboxReader } from 'mbox-reader';
import { UserError } from '../errors.js';
import { MAX_REPORT_BYTES } from './report.js';

/** One message to read as a report: its bytes, or only its size when it is far too large to be one. */
export type ReportSource = { source: string; raw: Buffer } | { source: string; tooLarge: number };

/**
 * The messages in what `bounces read` is given: a `.eml` file, an mbox file (mbox-reader splits it),
 * a folder of either (a Maildir's `new/` and `cur/` too), or standard input (`-`), as an MTA's
 * pipe delivers one message.
 */
export async function* reportSources(target: string): AsyncGenerator<ReportSource> {
  if (target === '-') {
    const { bytes, size } = await readAll(process.stdin);
    if (size > bytes.length) yield { source: 'standard input', tooLarge: size };
    else yield* fromBytes('standard input', bytes);
    return;
  }
  const info = await stat(target).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`${target}: ${error.code === 'ENOENT' ? 'no such file or folder' : error.message}`, { file: target, code: 'unreadable-file' });
  });
  if (info.isDirectory()) {
    for (const entry of (await readdir(target, { withFileTypes: true })).filter((entry) => !entry.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(target, entry.name);
      if (entry.isDirectory()) yield* reportSources(path);
      // Synchronous reads: one report at a time is all a CLI does, and four thread-pool round trips
      // a file (open, stat, read, close) cost more than the read.
      else if (entry.isFile()) yield* fromFile(path, statSync(path).size);
    }
    return;
  }
  yield* fromFile(target, info.size);
}

async function* fromFile(path: string, size: number): AsyncGenerator<ReportSource> {
  if (size <= MAX_REPORT_BYTES) {
    // Small enough to hold: one read, and the first bytes say whether it is an mbox.
    yield* fromBytes(path, readFileSync(path));
    return;
  }
  if (await isMbox(path)) {
    let index = 0;
    for await (const { content: message } of mboxReader(createReadStream(path))) {
      index++;
      yield message.length > MAX_REPORT_BYTES ? { source: `${path}#${index}`, tooLarge: message.length } : { source: `${path}#${index}`, raw: message };
    }
    return;
  }
  yield { source: path, tooLarge: size };
}

async function* fromBytes(source: string, bytes: Buffer): AsyncGenerator<ReportSource> {
  if (bytes.subarray(0, 5).toString('latin1') === 'From ') {
    let index = 0;
    for await (const { content: message } of mboxReader(Readable.from([bytes]))) {
      index++;
      yield message.length > MAX_REPORT_BYTES ? { source: `${source}#${index}`, tooLarge: message.length } : { source: `${source}#${index}`, raw: message };
    }
    return;
  }
  yield bytes.length > MAX_REPORT_BYTES ? { source, tooLarge: bytes.length } : { source, raw: bytes };
}

/** An mbox file begins with a `From ` separator line; a message file begins with a header. */
async function isMbox(path: string): Promise<boolean> {
  const handle = await open(path);
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(5), 0, 5, 0);
    return bytesRead === 5 && buffer.toString('latin1') === 'From ';
  } finally {
    await handle.close();
  }
}

/** All of a stream; past twice the limit the bytes are counted, not kept (the pipe is still drained). */
async function readAll(stream: NodeJS.ReadableStream): Promise<{ bytes: Buffer; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_REPORT_BYTES * 2) chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  return { bytes, size };
}
