import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { once } from 'node:events';
import { digestColumns } from './formats/digest.js';
import { guardCell } from './formula.js';
import type { ListFilter, Subscriber, SubscriberSource } from './store.js';

/**
 * The list as CSV in digest's own format, one line at a time. It imports back unchanged: every
 * field the import reads is written, tags and attributes as JSON, and a cell a spreadsheet would
 * run as a formula is guarded with an apostrophe that the import removes.
 */
export async function* exportLines(source: SubscriberSource, filter: ListFilter = {}): AsyncGenerator<string> {
  yield `${digestColumns.join(',')}\r\n`;
  for await (const subscriber of source.list(filter)) yield `${cells(subscriber).map(csvCell).join(',')}\r\n`;
}

function cells(subscriber: Subscriber): string[] {
  return [
    subscriber.email,
    subscriber.name ?? '',
    subscriber.status,
    subscriber.tags.length ? JSON.stringify(subscriber.tags) : '',
    Object.keys(subscriber.attributes).length ? JSON.stringify(subscriber.attributes) : '',
    subscriber.consentSource ?? '',
    subscriber.consentAt ?? '',
    subscriber.withdrawnAt ?? '',
    subscriber.withdrawnHow ?? '',
  ];
}

/** RFC 4180 quoting, also for spaces at either end, which the import would otherwise trim. */
function csvCell(value: string): string {
  const guarded = guardCell(value);
  return /[",\r\n;]|^\s|\s$/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** Writes lines to a stream, waiting when it is full, so memory stays flat however long the list. */
export async function writeLines(lines: AsyncIterable<string>, out: NodeJS.WritableStream): Promise<number> {
  let count = -1;
  for await (const line of lines) {
    count++;
    if (!out.write(line)) await once(out, 'drain');
  }
  return Math.max(0, count);
}

/** Like writeFileAtomic, for output too long to hold in memory: a temporary file, then a rename. */
export async function writeLinesAtomic(path: string, lines: AsyncIterable<string>): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const out = createWriteStream(temporary, { flush: true });
  try {
    const count = await writeLines(lines, out);
    out.end();
    await once(out, 'finish');
    await rename(temporary, path);
    return count;
  } catch (error) {
    out.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}
