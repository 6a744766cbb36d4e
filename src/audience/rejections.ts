import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface Rejection {
  line: number;
  reason: string;
}

/** Rejections kept in memory; the rest of a file of mostly bad rows waits in a temporary file. */
export const REJECTIONS_HELD = 10_000;
/** Spilled rejections written to the file at a time, as JSON lines. */
const SPILL_BATCH = 1_000;

/**
 * The rows an import rejects, every one of them, in file order, with memory flat however many there
 * are: the first REJECTIONS_HELD in memory, the rest in a temporary file until they are listed (a
 * file of three million rows in the wrong shape held 1.8 GB as an array).
 *
 * Rows are rejected in file order as they are read; those refused because their address was erased
 * are found a transaction later, out of that order, and are few (one per erased address in the
 * file), so they are kept apart, in memory, and merged in when the rejections are listed.
 */
export class Rejections {
  private readonly held: Rejection[] = [];
  private readonly erased: Rejection[] = [];
  private spill?: Spill;
  /** How many rows were rejected. */
  count = 0;

  /** A row rejected as it was read: called in file order. */
  add(rejection: Rejection): void {
    this.count++;
    if (this.held.length < REJECTIONS_HELD && !this.spill) {
      this.held.push(rejection);
      return;
    }
    const spill = (this.spill ??= openSpill());
    spill.pending.push(`${JSON.stringify(rejection)}\n`);
    if (spill.pending.length >= SPILL_BATCH) flush(spill);
  }

  /** A row refused because its address was erased, found after its transaction; in any order. */
  addErased(rejection: Rejection): void {
    this.count++;
    this.erased.push(rejection);
  }

  /** The first REJECTIONS_HELD rejections in file order: all of them, for a file with no more. */
  first(): Rejection[] {
    return mergeByLine(this.held, this.sortedErased()).slice(0, REJECTIONS_HELD);
  }

  /** Every rejection in file order, the spilled ones read back from their file. */
  async *all(): AsyncGenerator<Rejection> {
    const erased = this.sortedErased();
    let at = 0;
    for await (const rejection of this.asRead()) {
      while (at < erased.length && erased[at]!.line < rejection.line) yield erased[at++]!;
      yield rejection;
    }
    while (at < erased.length) yield erased[at++]!;
  }

  /** The rows rejected as they were read, held and spilled. */
  private async *asRead(): AsyncGenerator<Rejection> {
    yield* this.held;
    if (!this.spill) return;
    flush(this.spill);
    const lines = createInterface({ input: createReadStream(this.spill.path), crlfDelay: Infinity });
    for await (const line of lines) if (line) yield JSON.parse(line) as Rejection;
  }

  /** Removes the temporary file, if there is one. */
  dispose(): void {
    if (!this.spill) return;
    closeSync(this.spill.fd);
    this.spill.remove();
    process.off('exit', this.spill.remove);
    this.spill = undefined;
  }

  private sortedErased(): Rejection[] {
    return this.erased.sort((a, b) => a.line - b.line);
  }
}

interface Spill {
  path: string;
  fd: number;
  pending: string[];
  remove: () => void;
}

function openSpill(): Spill {
  const dir = mkdtempSync(join(tmpdir(), 'digest-rejections-'));
  const path = join(dir, 'rejections.jsonl');
  const remove = () => rmSync(dir, { recursive: true, force: true });
  // Removed with the process, should the caller never dispose of them.
  process.once('exit', remove);
  return { path, fd: openSync(path, 'w'), pending: [], remove };
}

function flush(spill: Spill): void {
  if (spill.pending.length === 0) return;
  writeSync(spill.fd, spill.pending.join(''));
  spill.pending = [];
}

function mergeByLine(a: Rejection[], b: Rejection[]): Rejection[] {
  if (b.length === 0) return a.slice();
  const merged: Rejection[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.line <= b[j]!.line)) merged.push(a[i++]!);
    else merged.push(b[j++]!);
  }
  return merged;
}
