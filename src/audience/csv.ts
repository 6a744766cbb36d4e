import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { UserError } from '../errors.js';
import { LineCounter } from './lines.js';
import { Utf8Check } from './utf8.js';

/** One data row of a CSV file, or the reason it could not be read. Lines are where the row begins. */
export type CsvRow = { line: number; values: string[] } | { line: number; error: string };

export interface CsvFile {
  /** The header row as written (BOM removed, trimmed). */
  columns: string[];
  delimiter: string;
  rows: AsyncIterable<CsvRow>;
  /** The same rows a chunk of the file at a time, in order: fewer awaits for a bulk reader. Read either this or `rows`, once. */
  batches: AsyncIterable<CsvRow[]>;
}

const CHUNK = 64 * 1024;

/**
 * Opens a CSV file for streaming: reads up to the header row and checks what a user can get wrong
 * about the whole file (missing, empty, binary, not UTF-8) before a single row is handed on, so
 * that those mistakes are one clear error and change nothing.
 *
 * Accepted: a UTF-8 BOM, CRLF or LF, quoted fields holding delimiters, quotes and newlines, blank
 * lines, spaces around fields, and semicolon- or tab-separated files as spreadsheets save them in
 * much of Europe (the delimiter is read off the header row).
 */
export async function openCsv(file: string): Promise<CsvFile> {
  await checkReadable(file);
  const chunks = readChunks(file);
  const first = await chunks.next();
  const head = first.done ? Buffer.alloc(0) : first.value;
  if (head.length === 0 || isBlank(head)) throw new UserError('is empty: a list needs a header row such as "email,name" and one row per subscriber', { file, code: 'empty-list' });

  const delimiter = detectDelimiter(head);
  const batches = parseRows(file, delimiter, head, chunks);
  // The header is the first row of the first batch that has any.
  let opening: CsvRow[] = [];
  for (;;) {
    const next = await batches.next();
    if (next.done) throw new UserError('is empty: a list needs a header row such as "email,name"', { file, code: 'empty-list' });
    opening = next.value;
    if (opening.length > 0) break;
  }
  const header = opening.shift()!;
  if ('error' in header) throw new UserError(`the header row cannot be read: ${header.error}`, { file, line: header.line, code: 'invalid-csv' });
  const columns = header.values.map((column, index) => (index === 0 ? column.replace(/^\ufeff/, '') : column).trim());
  async function* rest(): AsyncGenerator<CsvRow[]> {
    if (opening.length > 0) yield opening;
    yield* batches;
  }
  const all = rest();
  async function* rows(): AsyncGenerator<CsvRow> {
    for await (const batch of all) yield* batch;
  }
  return { columns, delimiter, rows: rows(), batches: all };
}

async function checkReadable(file: string): Promise<void> {
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw new UserError('is a folder, not a CSV file', { file, code: 'unreadable-file' });
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? 'no such file' : (error as Error).message, { file, cause: error, code: 'unreadable-file' });
  }
}

async function* readChunks(file: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) yield chunk as Buffer;
  } catch (error) {
    throw new UserError((error as Error).message, { file, cause: error, code: 'unreadable-file' });
  }
}

function isBlank(bytes: Buffer): boolean {
  return bytes.toString('utf8').replace(/^\ufeff/, '').trim() === '';
}

/** The delimiter that occurs most often outside quotes on the header row; a comma when none does. */
export function detectDelimiter(head: Buffer): string {
  const text = head.toString('utf8');
  const counts: Record<string, number> = { ',': 0, ';': 0, '\t': 0, '|': 0 };
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && (char === '\n' || char === '\r')) break;
    else if (!quoted && char in counts) counts[char]!++;
  }
  let best = ',';
  for (const [delimiter, count] of Object.entries(counts)) if (count > counts[best]!) best = delimiter;
  return best;
}

const reasons: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field that begins on this row is never closed, so the rest of the file is inside it',
  INVALID_OPENING_QUOTE: 'a quote inside an unquoted field: quote the whole field and double the quotes inside it ("say ""hi""")',
  CSV_INVALID_CLOSING_QUOTE: 'a closing quote is followed by other characters before the next delimiter',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a closing quote is followed by other characters before the next delimiter',
};

/**
 * Feeds the file to csv-parse chunk by chunk and yields its rows in file order, good and bad alike,
 * one array per chunk. Records are taken at the parser's push() and errors at on_skip, both called
 * synchronously inside write(), so a row and the error after it can never swap places; a record's
 * line comes from the parser's byte count at that moment (cheaper than on_record, which builds an
 * info object per record).
 */
async function* parseRows(file: string, delimiter: string, head: Buffer, rest: AsyncGenerator<Buffer>): AsyncGenerator<CsvRow[]> {
  const lines = new LineCounter();
  let queue: CsvRow[] = [];
  let failure: Error | undefined;
  let width: number | undefined;
  const parser = parse({
    bom: true,
    delimiter,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    skip_records_with_error: true,
    on_skip: (error: CsvError | undefined) => {
      const line = lines.contentLineAt(Number((error as { bytes?: number } | undefined)?.bytes ?? 0));
      queue.push({ line, error: (error && reasons[error.code]) ?? error?.message ?? 'cannot be read as CSV' });
      return undefined;
    },
  } as never) as ReturnType<typeof parse>;
  parser.push = (record: string[] | null): boolean => {
    if (record === null) return Transform.prototype.push.call(parser, null);
    let embedded = 0;
    for (const value of record) for (let at = value.indexOf('\n'); at !== -1; at = value.indexOf('\n', at + 1)) embedded++;
    const line = lines.lineAt(parser.info.bytes - 1) - embedded;
    width ??= record.length;
    const values = fitWidth(record, width);
    queue.push(values ? { line, values } : { line, error: `has ${record.length} fields but the header has ${width}` });
    // The width is ours to check (fitWidth). csv-parse compares each record with the first, and
    // for every one of another width builds an error it then drops (relax_column_count): a stack
    // trace and a JSON copy of its options, about 19 µs, five times the rest of the row. Counted
    // from zero again, each record is the first it compares with.
    (parser.info as { records: number }).records = 0;
    return true;
  };
  parser.on('error', (error) => {
    failure = error;
  });
  const take = () => {
    const taken = queue;
    queue = [];
    return taken;
  };

  const utf8 = new Utf8Check();
  let offset = 0;
  const feed = (chunk: Buffer) => {
    const nul = chunk.indexOf(0);
    lines.push(chunk);
    if (nul !== -1) {
      throw new UserError('is a binary file, not a CSV list (export it from your spreadsheet as CSV UTF-8)', { file, line: lines.lineAt(offset + nul), code: 'unreadable-file' });
    }
    const check = utf8.push(chunk);
    if (!check.ok) {
      throw new UserError('is not UTF-8 text (save it as CSV UTF-8)', { file, line: badUtf8Line(check.checked, lines, offset - check.held), code: 'unreadable-file' });
    }
    offset += chunk.length;
    parser.write(chunk);
  };

  feed(head);
  yield take();
  for await (const chunk of rest) {
    feed(chunk);
    if (failure) throw failure;
    yield take();
  }
  if (!utf8.end()) {
    throw new UserError('is not UTF-8 text: it ends in the middle of a character', { file, code: 'unreadable-file' });
  }
  await new Promise<void>((resolve) => parser.end(() => resolve()));
  if (failure) throw failure;
  yield take();
}

/** Short rows are padded (spreadsheets drop trailing empty cells); long rows pass only if the extra cells are empty. */
function fitWidth(record: string[], width: number): string[] | undefined {
  if (record.length === width) return record;
  if (record.length < width) return [...record, ...Array<string>(width - record.length).fill('')];
  return record.slice(width).every((value) => value === '') ? record.slice(0, width) : undefined;
}

function badUtf8Line(chunk: Buffer, lines: LineCounter, offset: number): number {
  const decoded = chunk.toString('utf8');
  const bad = decoded.indexOf('\ufffd');
  const before = bad === -1 ? chunk.length : Buffer.byteLength(decoded.slice(0, bad));
  return lines.lineAt(offset + before);
}
