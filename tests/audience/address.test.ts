import { describe, expect, test } from 'vitest';
import { checkAddress, checkByRules } from '../../src/audience/address.js';

describe('checkAddress', () => {
  test.each([
    'ann@example.com',
    'first.last+tag@sub.example.co.uk',
    "o'brien@example.ie",
    '  padded@example.com  ',
    `${'a'.repeat(64)}@example.com`,
  ])('accepts %s', (address) => {
    const check = checkAddress(address);
    expect(check).toEqual({ ok: true, address: address.trim(), international: false });
  });

  test.each(['zoë@example.com', 'user@exämple.com', '用户@例子.广告', 'δοκιμή@παράδειγμα.δοκιμή'])('accepts the international address %s and flags it', (address) => {
    expect(checkAddress(address)).toEqual({ ok: true, address, international: true });
  });

  test.each([
    ['', 'empty'],
    ['ann.example.com', 'no @'],
    ['@example.com', 'nothing before'],
    ['ann@', 'no domain'],
    ['ann@@example.com', 'more than one @'],
    ['ann smith@example.com', 'space'],
    ['ann@exa mple.com', 'space'],
    ['ann\u0000@example.com', 'control'],
    ['ann\u200b@example.com', 'control'],
    ['.ann@example.com', 'dot'],
    ['ann.@example.com', 'dot'],
    ['a..nn@example.com', 'dot'],
    [`${'a'.repeat(65)}@example.com`, '64'],
    [`ann@${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(60)}.com`, '254'],
    [`ann@${'a'.repeat(64)}.com`, '63'],
    ['ann@localhost', 'no dot'],
    ['ann@-example.com', 'hyphens'],
    ['ann@example..com', 'empty label'],
    ['ann@example.com.', 'empty label'],
    ['ann@192.168.0.1', 'number'],
    ['ann@[192.168.0.1]', 'literal'],
    ['"ann smith"@example.com', 'space'],
    ['"ann"@example.com', 'quoted'],
    ['ann(comment)@example.com', 'not allowed'],
    ['ann@exam_ple.com', 'label'],
  ])('rejects %j with a reason', (address, reason) => {
    const check = checkAddress(address);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toContain(reason);
  });
});

describe('checkAddress’s one-test path for plain addresses', () => {
  test('agrees with the rules one by one on thousands of near-miss addresses', () => {
    // A fixed pseudo-random walk over the characters that matter, so a failure can be replayed.
    const pieces = ['a', 'Z', '9', '0', '.', '.', '@', '@', '-', '_', '+', "'", '"', ' ', 'é', '[', 'com', 'example', '1', 'x'.repeat(60)];
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % pieces.length;
    for (let i = 0; i < 20_000; i++) {
      let address = '';
      const length = 1 + (i % 9);
      for (let j = 0; j < length; j++) address += pieces[next()];
      if (i % 2) address = `${address.replace(/@/g, '')}@${['example.com', 'a.b', 'x-y.co', '1.2', 'a', 'b.c9', 'ex_a.com'][i % 7]}`;
      expect(checkAddress(address), address).toEqual(checkByRules(address));
    }
  });
});
