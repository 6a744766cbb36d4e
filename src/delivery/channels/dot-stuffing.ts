/**
 * SMTP's DATA transparency (RFC 5321 4.5.2): every line break sent as CRLF, and a dot that begins
 * a line doubled, so that no line of the message can read as the "." that ends it.
 *
 * nodemailer's DataStream does this a byte at a time in JavaScript, which for a 100 KB newsletter
 * costs more than building the message. This does the same, byte for byte, but jumps from line
 * break to line break with Buffer#indexOf (native), so its cost follows the number of lines, and a
 * message that needs no change (digest builds its messages with CRLF only) is passed on uncopied.
 *
 * `previous` is the last byte of the chunk before, or undefined at the start of the message.
 */
export function stuffChunk(chunk: Buffer, previous: number | undefined): Buffer {
  const pieces: Buffer[] = [];
  let copied = 0;
  const insert = (at: number, bytes: Buffer) => {
    if (at > copied) pieces.push(chunk.subarray(copied, at));
    pieces.push(bytes);
    copied = at;
  };
  const length = chunk.length;

  // The chunk's first byte, against the end of the one before.
  if (length > 0) {
    const first = chunk[0]!;
    if (previous === CR && first !== LF) insert(0, first === DOT ? LF_DOT : LF_ONLY);
    else if (first === DOT && (previous === LF || previous === undefined)) insert(0, DOT_ONLY);
  }

  let cr = chunk.indexOf(CR);
  let lf = chunk.indexOf(LF);
  while (cr !== -1 || lf !== -1) {
    if (cr !== -1 && (lf === -1 || cr < lf)) {
      // A CR; the byte after it, if in this chunk, says whether it is half of a CRLF.
      const after = cr + 1;
      if (after >= length) break; // decided with the next chunk, by `previous`
      if (chunk[after] === LF) {
        if (after + 1 < length && chunk[after + 1] === DOT) insert(after + 1, DOT_ONLY);
        lf = chunk.indexOf(LF, after + 1);
      } else {
        // A bare CR becomes CRLF, and a dot after it is stuffed as at any line start.
        insert(after, chunk[after] === DOT ? LF_DOT : LF_ONLY);
      }
      cr = chunk.indexOf(CR, after);
    } else {
      // An LF not preceded by the CR just handled: bare unless the chunk before ended with CR.
      const before = lf > 0 ? chunk[lf - 1] : previous;
      if (before !== CR) insert(lf, CR_ONLY);
      if (lf + 1 < length && chunk[lf + 1] === DOT) insert(lf + 1, DOT_ONLY);
      lf = chunk.indexOf(LF, lf + 1);
    }
  }

  if (pieces.length === 0) return chunk;
  if (copied < length) pieces.push(chunk.subarray(copied));
  return Buffer.concat(pieces);
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const LF_ONLY = Buffer.from('\n');
const LF_DOT = Buffer.from('\n.');
const CR_ONLY = Buffer.from('\r');
const DOT_ONLY = Buffer.from('.');

/** The counters and state nodemailer's DataStream keeps, which its end-of-data step reads. */
interface DataStreamState {
  inByteCount: number;
  outByteCount: number;
  lastByte: number | false;
  push(chunk: Buffer): boolean;
}

type Transform = (this: DataStreamState, chunk: Buffer | string, encoding: string, done: (error?: Error | null) => void) => void;

/** A transform step that keeps DataStream's counters and last byte, around what it does to each chunk. */
function counted(change: (chunk: Buffer, previous: number | undefined) => Buffer): Transform {
  return function (chunk, _encoding, done) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (!bytes.length) return done();
    this.inByteCount += bytes.length;
    const out = change(bytes, this.lastByte === false ? undefined : this.lastByte);
    this.outByteCount += out.length;
    this.push(out);
    this.lastByte = bytes[bytes.length - 1]!;
    done();
  };
}

/**
 * A drop-in for DataStream's transform step, installed on each data stream an SMTP connection
 * makes (see smtp-pool.ts): the same output, the same counters, so nodemailer's own end-of-data
 * handling (the final CRLF.CRLF) works unchanged.
 */
export const stuffingTransform = counted(stuffChunk);

/** For bytes known to need nothing (OutgoingMessage.raw): counted and passed on, never scanned. */
export const verbatimTransform = counted((chunk) => chunk);
