/**
 * Turns byte offsets of a stream into line numbers without keeping the file: chunks are held only
 * until the parser has moved past them, and offsets are asked for in increasing order.
 */
export class LineCounter {
  private chunks: Buffer[] = [];
  /** The byte offset at which chunks[0] begins. */
  private base = 0;
  /** Everything before `cursor` has been counted; `line` is the line on which byte `cursor` stands. */
  private cursor = 0;
  private line = 1;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  /** The 1-based line on which the byte at `offset` stands. */
  lineAt(offset: number): number {
    if (offset <= this.cursor) return this.line;
    let start = this.base;
    for (const chunk of this.chunks) {
      const end = start + chunk.length;
      if (end > this.cursor) {
        const from = Math.max(0, this.cursor - start);
        const to = Math.min(chunk.length, offset - start);
        for (let at = chunk.indexOf(10, from); at !== -1 && at < to; at = chunk.indexOf(10, at + 1)) this.line++;
        this.cursor = start + to;
        if (this.cursor >= offset) break;
      }
      start = end;
    }
    this.forget();
    return this.line;
  }

  /** The line of the first byte at or after `offset` that is not a line break: where a record begins. */
  contentLineAt(offset: number): number {
    let line = this.lineAt(offset);
    let start = this.base;
    for (const chunk of this.chunks) {
      const end = start + chunk.length;
      if (end > offset) {
        for (let at = Math.max(0, offset - start); at < chunk.length; at++) {
          const byte = chunk[at];
          if (byte === 10) line++;
          else if (byte !== 13) return line;
        }
      }
      start = end;
    }
    return line;
  }

  private forget(): void {
    while (this.chunks.length > 1 && this.base + this.chunks[0]!.length <= this.cursor) {
      this.base += this.chunks.shift()!.length;
    }
  }
}
