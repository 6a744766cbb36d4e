import { describe, expect, test } from 'vitest';
import { openCsv, type CsvRow } from '../../src/audience/csv.js';
import { UserError } from '../../src/errors.js';
import { fixture } from './databases.js';

async function read(name: string) {
  const csv = await openCsv(fixture('spectrum', name));
  const rows: CsvRow[] = [];
  for await (const row of csv.rows) rows.push(row);
  return { columns: csv.columns, delimiter: csv.delimiter, rows };
}

describe('reading a CSV list (csv-spectrum cases and spreadsheet habits)', () => {
  test('a quoted field keeps its commas', async () => {
    const { rows } = await read('comma_in_quotes.csv');
    expect(rows).toEqual([{ line: 2, values: ['John', 'Doe', '120 any st.', 'Anytown, WW', '08123'] }]);
  });

  test('doubled quotes inside a quoted field are one quote', async () => {
    const { rows } = await read('escaped_quotes.csv');
    expect(rows.map((row) => 'values' in row && row.values[1])).toEqual(['say "hi" twice', '"quoted"']);
  });

  test('CRLF line ends, and a CRLF inside quotes stays in the field; lines count from where a row begins', async () => {
    const { rows } = await read('newlines_crlf.csv');
    expect(rows).toEqual([
      { line: 2, values: ['ann@example.com', 'line one\r\nline two'] },
      { line: 4, values: ['bob@example.com', 'plain'] },
    ]);
  });

  test('quotes and newlines together, and blank lines inside quotes', async () => {
    const { rows } = await read('quotes_and_newlines.csv');
    expect(rows).toEqual([
      { line: 2, values: ['ann@example.com', 'a, "b"\nand c'] },
      { line: 4, values: ['bob@example.com', 'two\n\nlines'] },
      { line: 7, values: ['carl@example.com', 'end'] },
    ]);
  });

  test('a UTF-8 byte-order mark is dropped from the first column name, and UTF-8 text is kept', async () => {
    const { columns, rows } = await read('utf8_bom.csv');
    expect(columns).toEqual(['email', 'name']);
    expect(rows.map((row) => 'values' in row && row.values[1])).toEqual(['Zoë', '日本語']);
  });

  test('blank lines are skipped and spaces around fields trimmed, with true line numbers', async () => {
    const { rows } = await read('blank_lines_and_spaces.csv');
    expect(rows).toEqual([
      { line: 3, values: ['ann@example.com', 'Ann'] },
      { line: 6, values: ['bob@example.com', 'Bob'] },
    ]);
  });

  test('a semicolon-separated file is recognised from its header row', async () => {
    const { delimiter, rows } = await read('semicolon.csv');
    expect(delimiter).toBe(';');
    expect(rows).toEqual([{ line: 2, values: ['ann@example.com', 'Ann; the first'] }]);
  });

  test('a malformed row is reported on its own line and reading goes on', async () => {
    const { rows } = await read('invalid_rows.csv');
    expect(rows.filter((row) => 'error' in row)).toEqual([
      { line: 6, error: expect.stringContaining('quote inside an unquoted field') },
      { line: 7, error: 'has 3 fields but the header has 2' },
    ]);
  });

  test.each([
    ['empty.csv', /is empty/],
    ['blank.csv', /is empty/],
    ['binary.csv', /is a binary file/],
    ['latin1.csv', /is not UTF-8/],
    ['does-not-exist.csv', /no such file/],
  ])('%s is one clear user error', async (name, message) => {
    const error = await openCsv(fixture('spectrum', name)).then(
      async (csv) => {
        for await (const _row of csv.rows);
      },
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(message);
  });

  test('a non-UTF-8 byte is located on its line', async () => {
    const error = await openCsv(fixture('spectrum', 'latin1.csv')).catch((failure: UserError) => failure);
    expect((error as UserError).located).toMatch(/latin1\.csv:2: is not UTF-8/);
  });
});
