import { describe, expect, it } from 'vitest';
import { openUnsubscribe, sealUnsubscribe, unsubscribeKey, unsubscribeUrl } from '../../src/delivery/unsubscribe.js';

const key = unsubscribeKey('a test secret that is long enough to use!');

describe('unsubscribe tokens', () => {
  it('carry the reader and the issue, readable only with the key', () => {
    const token = sealUnsubscribe({ email: 'Ana@Example.org', issue: '2024-03-08-weekly' }, key);
    expect(openUnsubscribe(token, key)).toEqual({ email: 'Ana@Example.org', issue: '2024-03-08-weekly' });
    expect(token).not.toContain('Ana');
    expect(token).toMatch(/^u1\.[A-Za-z0-9_-]+$/);
    expect(openUnsubscribe(token, unsubscribeKey('another secret that is long enough to use'))).toBeUndefined();
  });

  it('sent earlier keep opening: the format and the key derivation are fixed', () => {
    // Sealed by the release before tokens shared src/seal.ts with the sign-up tokens.
    const earlier = 'u1.c-83gj1r5FqpvN_YbTc3JGQce2_xeUwd1I3tql-puy7sNZiUpKBUxvZDKLUdkTxal36jbFDjLEOtOOanKTrnyIn77wCCkv6n6gSO';
    expect(openUnsubscribe(earlier, unsubscribeKey('a fixed secret for the format test, 40 chars'))).toEqual({ email: 'ana@example.org', issue: '2026-03-06-weekly' });
  });

  it('differ per message, so one leaked link reveals nothing about another', () => {
    const claim = { email: 'a@x.org', issue: 'i' };
    expect(sealUnsubscribe(claim, key)).not.toBe(sealUnsubscribe(claim, key));
  });

  it('refuse anything altered, truncated or made up', () => {
    const token = sealUnsubscribe({ email: 'a@x.org', issue: 'i' }, key);
    const body = token.slice(3);
    const flipped = `u1.${body.slice(0, 10)}${body[10] === 'A' ? 'B' : 'A'}${body.slice(11)}`;
    for (const bad of [flipped, token.slice(0, -4), `${token}x`, `u2.${body}`, 'u1.', 'u1.AAAA', '', `${token}.extra`, 'u1.@@@@']) {
      expect(openUnsubscribe(bad, key), bad).toBeUndefined();
    }
  });

  it('need a real secret', () => {
    expect(() => unsubscribeKey(undefined)).toThrow('DIGEST_SECRET must be set');
    expect(() => unsubscribeKey('short')).toThrow('at least 32 characters');
  });

  it('append to the configured base', () => {
    expect(unsubscribeUrl('https://news.example/u/', 'u1.abc')).toBe('https://news.example/u/u1.abc');
  });
});
