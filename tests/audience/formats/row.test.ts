import { describe, expect, test } from 'vitest';
import { parseTags } from '../../../src/audience/formats/row.js';
import { mergeSubscriber } from '../../../src/audience/merge.js';

describe('parseTags', () => {
  test('reads a JSON array, a comma-separated list and Mailchimp’s quoted list, trimmed, blanks dropped', () => {
    expect(parseTags('["a", " b ", ""]')).toEqual(['a', 'b']);
    expect(parseTags(' weekly , vip ,,')).toEqual(['weekly', 'vip']);
    expect(parseTags('"Local news","Sport"')).toEqual(['Local news', 'Sport']);
    expect(parseTags('["not json"')).toEqual(['["not json"']);
    expect(parseTags('')).toBeUndefined();
  });

  test('gives the same frozen array for the same cell, which a new subscriber’s tags reuse without sharing a mutable array', () => {
    const first = parseTags('weekly,vip,weekly')!;
    expect(parseTags('weekly,vip,weekly')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    const a = mergeSubscriber(undefined, { email: 'a@example.com', tags: first, international: false }, {}).record;
    const b = mergeSubscriber(undefined, { email: 'b@example.com', tags: first, international: false }, {}).record;
    expect(a.tags).toEqual(['weekly', 'vip']);
    expect(b.tags).toBe(a.tags);
    expect(() => a.tags.push('x')).toThrow(TypeError);
    // Tags added on the command line make arrays of their own.
    const c = mergeSubscriber(undefined, { email: 'c@example.com', tags: first, international: false }, { tags: ['spring'] }).record;
    expect(c.tags).toEqual(['weekly', 'vip', 'spring']);
    expect(b.tags).toEqual(['weekly', 'vip']);
    // An update merges into a new array.
    const updated = mergeSubscriber(a, { email: 'a@example.com', tags: parseTags('sport'), international: false }, {}).record;
    expect(updated.tags).toEqual(['weekly', 'vip', 'sport']);
    expect(a.tags).toEqual(['weekly', 'vip']);
  });
});
