import { isUtf8 } from 'node:buffer';

/**
 * Checks that a stream of chunks is UTF-8, a chunk at a time, for a file too large to decode whole.
 * Node's isUtf8 is many times faster than a fatal TextDecoder (which also builds the string), but
 * judges one buffer alone; so the bytes of a character cut off at the end of a chunk are held back
 * and checked at the start of the next.
 */
export class Utf8Check {
  private held: Buffer = Buffer.alloc(0);

  /**
   * Whether the chunk continues valid UTF-8. If not, `checked` is what was judged: the chunk, after
   * the bytes held back from the one before (`held` of them), to find the bad one in.
   */
  push(chunk: Buffer): { ok: true } | { ok: false; checked: Buffer; held: number } {
    const held = this.held.length;
    const bytes = held > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    const end = completeEnd(bytes);
    this.held = bytes.subarray(end);
    return isUtf8(bytes.subarray(0, end)) ? { ok: true } : { ok: false, checked: bytes, held };
  }

  /** Whether the stream ended on a whole character. */
  end(): boolean {
    return this.held.length === 0;
  }
}

/** Where the last whole character ends: before a lead byte whose continuation bytes have not all come yet. */
function completeEnd(bytes: Buffer): number {
  // A character is at most four bytes, so its lead byte is among the last four.
  for (let at = bytes.length - 1; at >= 0 && at >= bytes.length - 4; at--) {
    const byte = bytes[at]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: the lead is further back
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return at + length > bytes.length ? at : bytes.length;
  }
  // Four continuation bytes in a row: not UTF-8, which isUtf8 will say.
  return bytes.length;
}
