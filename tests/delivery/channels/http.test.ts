/**
 * The parts every HTTP provider channel shares: how long a 429 asks to wait, what a failure
 * means, and how a route URL is read without its key ever being printed.
 */
import { describe, expect, it } from 'vitest';
import { classifyHttp, HttpFailure } from '../../../src/delivery/channels/http.js';
import { openChannel, SCHEMES } from '../../../src/delivery/channels/index.js';
import { readProviderUrl, withoutCredentials } from '../../../src/delivery/channels/provider-url.js';
import { waitFromHeaders } from '../../../src/delivery/channels/retry-after.js';
import { channelSettings } from './messages.js';

describe('waitFromHeaders', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(waitFromHeaders({ 'retry-after': '3' }, now)).toBe(3000);
    expect(waitFromHeaders({ 'retry-after': 'Sun, 01 Mar 2026 12:00:05 GMT' }, now)).toBe(5000);
    expect(waitFromHeaders({ 'retry-after': 'Sun, 01 Mar 2026 11:59:00 GMT' }, now)).toBe(0);
  });

  it('falls back on the reset headers, as seconds to wait or as a Unix time in seconds or milliseconds', () => {
    expect(waitFromHeaders({ 'ratelimit-reset': '2' }, now)).toBe(2000);
    expect(waitFromHeaders({ 'x-ratelimit-reset': String(now / 1000 + 7) }, now)).toBe(7000);
    expect(waitFromHeaders({ 'x-ratelimit-reset': String(now + 1500) }, now)).toBe(1500);
    expect(waitFromHeaders({ 'retry-after': '1', 'x-ratelimit-reset': '30' }, now)).toBe(1000);
  });

  it('says nothing when nothing is said, or nothing readable', () => {
    expect(waitFromHeaders({}, now)).toBeUndefined();
    expect(waitFromHeaders({ 'retry-after': 'soon', 'ratelimit-reset': 'later' }, now)).toBeUndefined();
  });
});

describe('classifyHttp', () => {
  const network = (code: string, sent: boolean, idempotent = false) => new HttpFailure(`postmark: ${code}`, { code, sent, idempotent });
  const refusal = (status: number) => new HttpFailure(`postmark ${status}: no`, { status, sent: true });

  it('takes nothing to talk to for down, and a connection broken before the whole request for retry', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_TLS_CERT_ALTNAME_INVALID', 'DEPTH_ZERO_SELF_SIGNED_CERT']) {
      expect(classifyHttp(network(code, false)).kind, code).toBe('down');
    }
    expect(classifyHttp(network('UND_ERR_SOCKET', false)).kind).toBe('retry');
  });

  it('takes no answer after the whole request for unknown, or for retry where the provider drops repeats', () => {
    expect(classifyHttp(network('UND_ERR_SOCKET', true)).kind).toBe('unknown');
    expect(classifyHttp(network('UND_ERR_HEADERS_TIMEOUT', true)).kind).toBe('unknown');
    expect(classifyHttp(network('UND_ERR_HEADERS_TIMEOUT', true, true)).kind).toBe('retry');
  });

  it('goes by the status where the provider has nothing more specific to say', () => {
    expect(classifyHttp(refusal(401)).kind).toBe('down');
    expect(classifyHttp(refusal(403)).kind).toBe('down');
    expect(classifyHttp(refusal(429)).kind).toBe('retry');
    expect(classifyHttp(refusal(500)).kind).toBe('retry');
    expect(classifyHttp(refusal(503)).kind).toBe('retry');
    expect(classifyHttp(refusal(413))).toMatchObject({ kind: 'failed', bounce: false });
    expect(classifyHttp(refusal(400), () => ({ kind: 'failed', reply: 'dead', bounce: true }))).toMatchObject({ bounce: true });
  });

  it('takes any other error, thrown before a request, for down', () => {
    expect(classifyHttp(new Error('the DKIM key cannot sign'))).toEqual({ kind: 'down', reply: 'the DKIM key cannot sign' });
  });
});

describe('a provider route URL', () => {
  const spec = {
    provider: 'resend',
    variable: 'RESEND_API_KEY',
    env: {},
    defaultHost: 'api.resend.com',
    apiBase: (host: string) => `https://${host}`,
    example: 'resend://KEY@api.resend.com',
  };

  it('takes the key from the user name or the password, percent-decoded, else from the environment', () => {
    expect(readProviderUrl('resend://re_a%2Fb@', spec).credential).toBe('re_a/b');
    expect(readProviderUrl('resend://:re_pw@api.resend.com', spec).credential).toBe('re_pw');
    expect(readProviderUrl('resend://', { ...spec, env: { RESEND_API_KEY: 're_env' } }).credential).toBe('re_env');
    expect(readProviderUrl('resend://', spec).credential).toBeUndefined();
  });

  it('goes to ?endpoint= when given, and prints the host only', () => {
    const route = readProviderUrl('resend://re_secret@?endpoint=http://127.0.0.1:8025/proxy/', spec);
    expect(route.base.href).toBe('http://127.0.0.1:8025/proxy/');
    expect(route.description).toBe('resend (127.0.0.1:8025)');
    expect(readProviderUrl('resend://re_secret@api.resend.com', spec).description).toBe('resend (api.resend.com)');
  });

  it('refuses a URL it cannot read in words that leave the key out', () => {
    for (const url of ['resend://re_secret@?endpoint=nota url', 'resend://re_secret@?endpoint=file:///etc', 'postmark://re_secret@x']) {
      expect(() => readProviderUrl(url, spec)).toThrow(expect.objectContaining({ code: 'invalid-delivery-url' }));
      try {
        readProviderUrl(url, spec);
      } catch (error) {
        expect((error as Error).message).not.toContain('re_secret');
      }
    }
    expect(withoutCredentials('sendgrid://SG.key@api.sendgrid.com?x=1')).toBe('sendgrid://***@api.sendgrid.com?x=1');
  });
});

describe('the registry', () => {
  it('opens each provider by its scheme, printing no key', async () => {
    const urls = ['postmark://pm_key@', 'mailgun://api:mg_key@mg.gazette.example', 'sendgrid://SG.key@', 'resend://re_key@'];
    for (const url of urls) {
      const scheme = url.slice(0, url.indexOf(':'));
      expect(SCHEMES).toContain(scheme);
      const channel = await openChannel(url, channelSettings());
      expect(channel.description).toMatch(new RegExp(`^${scheme} \\(`));
      expect(channel.description).not.toMatch(/_key|SG\.key/);
      expect(channel.real).toBe(true);
    }
  });
});
