import { describe, expect, test } from 'vitest';
import { packRows, unpackRows } from '../../../src/audience/sql/row-transfer.js';
import type { WrittenRow } from '../../../src/audience/sql/rows.js';

const at = '2026-11-25T10:00:00.000Z';
const row = (email: string, overrides: Partial<Record<number, unknown>> = {}): WrittenRow => {
  const values: unknown[] = [email, email.toLowerCase(), 'Ann', 'subscribed', '["weekly"]', '{}', false, 'import:digest', at, null, null];
  for (const [index, value] of Object.entries(overrides)) values[Number(index)] = value;
  return values as WrittenRow;
};

describe('rows packed for another thread', () => {
  test('come back as they went: nulls apart from empty text, booleans, any text but NUL', () => {
    const rows = [
      row('Ann@Example.com'),
      row('bob@example.com', { 2: null }),
      row('cat@example.com', { 2: '' }),
      row('dée@exämple.com', { 6: true, 2: 'Dée "Ω" \t\n\\ 🎉' }),
      row('eve@example.com', { 3: 'unsubscribed', 9: at, 10: 'one-click' }),
      row('fay@example.com', { 3: 'unsubscribed', 9: at, 10: 'one-click' }),
      row('gus@example.com', { 5: '{"city":"Oslo"}', 7: null, 8: null }),
      row('hal@example.com', { 4: '[]', 5: '{"city":"Oslo"}', 7: null, 8: null }),
      row('ivy@example.com', { 2: '', 7: '', 8: '' }),
    ];
    expect(unpackRows(packRows(rows))).toEqual(rows);
  });

  test('of none, and of a row whose every value is empty', () => {
    expect(unpackRows(packRows([]))).toEqual([]);
    const empty = ['', '', '', '', '', '', false, '', '', '', ''] as WrittenRow;
    expect(unpackRows(packRows([empty, empty]))).toEqual([empty, empty]);
  });

  test('write the values rows share only when they change', () => {
    const same = Array.from({ length: 100 }, (_, i) => row(`r${i}@example.com`));
    const varied = same.map((r, i) => row(r[0], { 5: `{"n":${i}}` }));
    expect(packRows(same).text.length).toBeLessThan(packRows(varied).text.length * 0.6);
  });

  test('a value holding a NUL is refused, not shifted onto the next column', () => {
    const packed = packRows([row('a@example.com', { 2: 'An\0n' }), row('b@example.com')]);
    expect(() => unpackRows(packed)).toThrow(/NUL/);
  });
});
