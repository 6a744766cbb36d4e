import { describe, expect, test } from 'vitest';
import { Utf8Check } from '../../src/audience/utf8.js';

/** What a fatal TextDecoder says of the whole: the reference the chunked check must agree with. */
function isUtf8Whole(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The check's verdict on bytes fed in chunks cut at the given places. */
function chunked(bytes: Buffer, cuts: number[]): boolean {
  const check = new Utf8Check();
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (!check.push(bytes.subarray(from, cut)).ok) return false;
    from = cut;
  }
  return check.end();
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x80000000;
  };
}

describe('Utf8Check', () => {
  const text = Buffer.from('Zoë, 東京, 🎉 and Łódź\n');

  test('accepts UTF-8 cut at every byte, characters of two, three and four bytes included', () => {
    for (let cut = 0; cut <= text.length; cut++) expect(chunked(text, [cut]), `cut at ${cut}`).toBe(true);
  });

  test('refuses a stray byte, and a stream that ends inside a character', () => {
    const latin1 = Buffer.from('caf\xe9 au lait', 'latin1');
    for (let cut = 0; cut <= latin1.length; cut++) expect(chunked(latin1, [cut])).toBe(false);
    const cutShort = text.subarray(0, text.indexOf(Buffer.from('🎉')) + 2);
    expect(chunked(cutShort, [3])).toBe(false);
  });

  test('says what the bytes were when it refuses, the held-back ones included', () => {
    const check = new Utf8Check();
    const bytes = Buffer.from([0x61, 0xe6, 0x9d, 0xb1, 0xff, 0x62]);
    expect(check.push(bytes.subarray(0, 2)).ok).toBe(true);
    const verdict = check.push(bytes.subarray(2));
    expect(verdict).toEqual({ ok: false, checked: bytes.subarray(1), held: 1 });
  });

  test('agrees with a fatal TextDecoder on 2,000 random byte strings cut at random places', () => {
    const next = random(20261125);
    const alphabet = [0x41, 0x0a, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x8e, 0x89, 0x80, 0xbf, 0xc0, 0xed, 0xa0, 0xf4, 0x90, 0xff];
    for (let round = 0; round < 2000; round++) {
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(next() * 12) }, () => alphabet[Math.floor(next() * alphabet.length)]!));
      const cuts = Array.from({ length: Math.floor(next() * 4) }, () => Math.floor(next() * (bytes.length + 1))).sort((a, b) => a - b);
      expect(chunked(bytes, cuts), `${bytes.toString('hex')} cut at ${cuts}`).toBe(isUtf8Whole(bytes));
    }
  });
});
