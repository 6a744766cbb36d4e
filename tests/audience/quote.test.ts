import { describe, expect, test } from 'vitest';
import { quote } from '../../src/audience/quote.js';

describe('a value from a file quoted in a message (quote)', () => {
  test('short values are quoted whole, control characters escaped', () => {
    expect(quote('ann@example.com')).toBe('"ann@example.com"');
    expect(quote('a\u001b[2Jb\n')).toBe('"a\\u001b[2Jb\\n"');
  });

  test('a long value is cut short, with its length', () => {
    expect(quote('x'.repeat(5_000_000))).toBe(`"${'x'.repeat(60)}…" (5,000,000 characters)`);
    expect(quote('abcdef', 3)).toBe('"abc…" (6 characters)');
  });

  test('the cut never splits a character made of two UTF-16 units', () => {
    expect(quote('ab😀cd', 3)).toBe('"ab…" (6 characters)');
  });
});
