import { sameSharedValues, type WrittenRow } from './rows.js';

/**
 * Rows packed for a hand-over to another thread (src/audience/sql/sqlite-writer.ts): their text in
 * one string, NUL between values, and a byte of flags per row. Posting a message clones what it
 * carries value by value, and one long string and one byte array cost a fraction of eleven values a
 * row; the values that most rows of an import share (status, attributes, consent, withdrawal) are
 * written only when they differ from the row before.
 */
export interface PackedRows {
  readonly count: number;
  readonly text: string;
  readonly flags: Uint8Array;
}

const SEPARATOR = '\0';

/** The shared values (rows.ts) sent as text; international is in the flags. */
const shared = [3, 5, 7, 8, 9, 10] as const;
/** The nullable values: name, and the four of consent and withdrawal. */
const nullable = [2, 7, 8, 9, 10] as const;

const INTERNATIONAL = 1;
const SAME_AS_BEFORE = 2;
/** The flag saying nullable[i] is null. */
const isNull = (i: number) => 4 << i;

export function packRows(rows: readonly WrittenRow[]): PackedRows {
  const values: Array<string | null> = [];
  const flags = new Uint8Array(rows.length);
  let before: WrittenRow | undefined;
  for (let at = 0; at < rows.length; at++) {
    const row = rows[at]!;
    let flag = row[6] ? INTERNATIONAL : 0;
    if (row[2] === null) flag |= isNull(0);
    values.push(row[0], row[1], row[2], row[4]); // ownValues, spelt out: this runs for every row
    if (before && sameSharedValues(row, before)) {
      flag |= SAME_AS_BEFORE;
      for (let i = 1; i < nullable.length; i++) if (row[nullable[i]!] === null) flag |= isNull(i);
    } else {
      for (let i = 1; i < nullable.length; i++) if (row[nullable[i]!] === null) flag |= isNull(i);
      values.push(row[3], row[5], row[7], row[8], row[9], row[10]);
    }
    flags[at] = flag;
    before = row;
  }
  // join() writes null as ''. A value holding a NUL would add a value: unpackRows counts them, and
  // refuses the lot rather than shift every value after it onto the wrong column (nothing digest
  // writes holds one: a list file with a NUL is refused as binary, and JSON escapes it).
  return { count: rows.length, text: values.join(SEPARATOR), flags };
}

export function unpackRows({ count, text, flags }: PackedRows): WrittenRow[] {
  const values = count === 0 ? [] : text.split(SEPARATOR);
  const rows = new Array<WrittenRow>(count);
  let next = 0;
  let before: WrittenRow | undefined;
  for (let at = 0; at < count; at++) {
    const flag = flags[at]!;
    const row = [values[next++]!, values[next++]!, values[next++]!, '', values[next++]!, '', (flag & INTERNATIONAL) !== 0, null, null, null, null] as WrittenRow;
    if (flag & SAME_AS_BEFORE) for (const index of shared) (row as unknown[])[index] = before![index];
    else for (const index of shared) (row as unknown[])[index] = values[next++]!;
    for (let i = 0; i < nullable.length; i++) if (flag & isNull(i)) (row as unknown[])[nullable[i]!] = null;
    rows[at] = row;
    before = row;
  }
  if (next !== values.length) throw new Error(`packed rows hold ${values.length} values where ${next} were expected: a value holds a NUL character, which cannot be stored`);
  return rows;
}
