import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { REJECTIONS_HELD, Rejections, type Rejection } from '../../src/audience/rejections.js';

const collect = async (items: AsyncIterable<Rejection>) => {
  const all: Rejection[] = [];
  for await (const item of items) all.push(item);
  return all;
};

describe('the rows an import rejects (Rejections)', () => {
  test('a few are kept in memory, in file order, with the erased ones merged in by line', async () => {
    const rejections = new Rejections();
    rejections.add({ line: 2, reason: 'a' });
    rejections.add({ line: 9, reason: 'b' });
    rejections.addErased({ line: 12, reason: 'erased' });
    rejections.addErased({ line: 5, reason: 'erased' });
    const expected = [
      { line: 2, reason: 'a' },
      { line: 5, reason: 'erased' },
      { line: 9, reason: 'b' },
      { line: 12, reason: 'erased' },
    ];
    expect(rejections.count).toBe(4);
    expect(rejections.first()).toEqual(expected);
    expect(await collect(rejections.all())).toEqual(expected);
  });

  test('past the ones held, the rest wait in a temporary file, are listed in order (twice if need be), and go with dispose()', async () => {
    const rejections = new Rejections();
    const total = REJECTIONS_HELD + 2_500;
    for (let line = 2; line < total + 2; line++) {
      // One erased address in the spilled part, found (as it is) after the rows around it.
      if (line === REJECTIONS_HELD + 100) continue;
      rejections.add({ line, reason: `bad "${line}"\n` });
    }
    rejections.addErased({ line: REJECTIONS_HELD + 100, reason: 'erased' });
    expect(rejections.count).toBe(total);
    expect(rejections.first()).toHaveLength(REJECTIONS_HELD);
    for (let pass = 0; pass < 2; pass++) {
      const all = await collect(rejections.all());
      expect(all).toHaveLength(total);
      expect(all.map((rejection) => rejection.line)).toEqual(Array.from({ length: total }, (_, index) => index + 2));
      expect(all.at(-1)).toEqual({ line: total + 1, reason: `bad "${total + 1}"\n` });
      expect(all[REJECTIONS_HELD + 98]).toEqual({ line: REJECTIONS_HELD + 100, reason: 'erased' });
    }
    const spilled = (rejections as unknown as { spill: { path: string } }).spill.path;
    expect(existsSync(spilled)).toBe(true);
    rejections.dispose();
    expect(existsSync(spilled)).toBe(false);
  });
});
