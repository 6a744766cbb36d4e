/**
 * Click tokens: what a link token holds comes back out, and nothing else opens: an altered, cut or
 * lengthened token, one sealed under another secret or for another purpose (a reader token, an
 * unsubscribe token), and a sealed URL that is not http(s).
 */
import { describe, expect, test } from 'vitest';
import { sealUnsubscribe, unsubscribeKey } from '../../src/delivery/unsubscribe.js';
import { seal } from '../../src/seal.js';
import { clickBase, clickKey, openClick, openReader, readerKey, sealClick, sealReader } from '../../src/tracking/token.js';

const SECRET = 'test secret: at least thirty-two characters long';
const key = clickKey(SECRET);
const readers = readerKey(SECRET);
const url = 'https://valleyledger.example/stories/bridge?utm_source=newsletter&x=1#vote';

/** The same token with one character of its body changed to another valid one. */
function altered(token: string, at: number): string {
  const [prefix, body] = token.split('.') as [string, string];
  const swapped = body[at] === 'A' ? 'B' : 'A';
  return `${prefix}.${body.slice(0, at)}${swapped}${body.slice(at + 1)}`;
}

describe('link tokens', () => {
  test('open to the issue and the URL they were sealed with, the URL also as a Location header carries it', () => {
    const token = sealClick({ issue: '2024-03-08-weekly', url }, key);
    expect(token).toMatch(/^c1\.[A-Za-z0-9_-]+$/);
    expect(openClick(token, key)).toEqual({ issue: '2024-03-08-weekly', url, location: url });
    const accented = openClick(sealClick({ issue: 'x', url: 'https://例え.example/café?q=ü' }, key), key);
    expect(accented?.location).toBe('https://xn--r8jz45g.example/caf%C3%A9?q=%C3%BC');
    expect(accented?.url).toBe('https://例え.example/café?q=ü');
  });

  test('two seals of the same link differ (a fresh IV each), and both open', () => {
    const a = sealClick({ issue: 'i', url }, key);
    const b = sealClick({ issue: 'i', url }, key);
    expect(a).not.toBe(b);
    expect(openClick(a, key)?.url).toBe(url);
    expect(openClick(b, key)?.url).toBe(url);
  });

  test('an altered, truncated, lengthened or re-prefixed token opens to nothing', () => {
    const token = sealClick({ issue: 'i', url }, key);
    const body = token.slice(3);
    for (const at of [0, 5, 16, body.length - 1]) expect(openClick(altered(token, at), key), `position ${at}`).toBeUndefined();
    expect(openClick(token.slice(0, -1), key)).toBeUndefined();
    expect(openClick(token.slice(0, 30), key)).toBeUndefined();
    expect(openClick(`${token}A`, key)).toBeUndefined();
    expect(openClick(`${token}.x`, key)).toBeUndefined();
    expect(openClick(`u1.${body}`, key)).toBeUndefined();
    expect(openClick(body, key)).toBeUndefined();
    expect(openClick('', key)).toBeUndefined();
    expect(openClick('c1.', key)).toBeUndefined();
  });

  test('a token sealed under another secret, or for another purpose, opens to nothing', () => {
    const other = clickKey('another secret, also thirty-two characters or more');
    expect(openClick(sealClick({ issue: 'i', url }, other), key)).toBeUndefined();
    // An unsubscribe token with its prefix changed to ours: the purpose's key still refuses it.
    const unsubscribe = sealUnsubscribe({ email: url, issue: 'i' }, unsubscribeKey(SECRET));
    expect(openClick(unsubscribe, key)).toBeUndefined();
    expect(openClick(`c1.${unsubscribe.slice(3)}`, key)).toBeUndefined();
    // A claim of the right shape sealed with the unsubscribe key, under our version.
    expect(openClick(seal('c1', { i: 'i', u: url }, unsubscribeKey(SECRET)), key)).toBeUndefined();
    const reader = sealReader({ emailKey: 'ana@example.org', issue: 'i' }, readers);
    expect(openClick(`c1.${reader.slice(3)}`, key)).toBeUndefined();
  });

  test('a sealed URL that is not http(s) never opens, however well sealed', () => {
    for (const target of ['javascript:alert(document.cookie)', 'JavaScript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'vbscript:x', 'file:///etc/passwd', 'ftp://files.example/x', '//evil.example/x', '/relative', 'not a url', 'https://']) {
      expect(openClick(sealClick({ issue: 'i', url: target }, key), key), target).toBeUndefined();
    }
    expect(openClick(seal('c1', { i: 'i', u: 42 }, key), key)).toBeUndefined();
    expect(openClick(seal('c1', { u: url }, key), key)).toBeUndefined();
    expect(openClick(seal('c1', 'https://x.example', key), key)).toBeUndefined();
  });
});

describe('reader tokens', () => {
  test('open to the reader and the issue, with their own key only', () => {
    const token = sealReader({ emailKey: 'ana@example.org', issue: 'week' }, readers);
    expect(token).toMatch(/^r1\./);
    expect(openReader(token, readers)).toEqual({ emailKey: 'ana@example.org', issue: 'week' });
    expect(openReader(token, readerKey('another secret, also thirty-two characters or more'))).toBeUndefined();
    expect(openReader(altered(token, 3), readers)).toBeUndefined();
    expect(openReader(`r1.${sealClick({ issue: 'week', url }, key).slice(3)}`, readers)).toBeUndefined();
  });
});

test('the click base sits under baseUrl, one slash whatever the config wrote', () => {
  expect(clickBase('https://news.example/letter')).toBe('https://news.example/letter/c/');
  expect(clickBase('https://news.example/letter//')).toBe('https://news.example/letter/c/');
  expect(clickBase('https://news.example')).toBe('https://news.example/c/');
});

test('the keys need DIGEST_SECRET, as every sealed link does', () => {
  expect(() => clickKey(undefined)).toThrow(/DIGEST_SECRET must be set/);
  expect(() => readerKey('short')).toThrow(/DIGEST_SECRET must be set/);
});
