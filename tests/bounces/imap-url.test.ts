/**
 * Where the bounce mailbox is: DIGEST_BOUNCE_IMAP_URL and DIGEST_BOUNCE_IMAP_PASSWORD. The password
 * is never part of what may be printed, and `imap://` to another machine insists on STARTTLS.
 */
import { describe, expect, test } from 'vitest';
import { imapSettings } from '../../src/bounces/imap-url.js';

const settings = (url: string, password?: string) => imapSettings({ DIGEST_BOUNCE_IMAP_URL: url, ...(password ? { DIGEST_BOUNCE_IMAP_PASSWORD: password } : {}) });

describe('the bounce mailbox URL', () => {
  test('imaps:// is TLS from the first byte, on 993 unless told', () => {
    expect(settings('imaps://bounces%40news.example@mail.example.org', 'pw')).toEqual({
      host: 'mail.example.org',
      port: 993,
      secure: true,
      startTls: false,
      user: 'bounces@news.example',
      password: 'pw',
      shown: 'imaps://bounces%40news.example@mail.example.org',
    });
  });

  test('imap:// to another machine requires STARTTLS; to loopback it may stay plain', () => {
    expect(settings('imap://u@mail.example.org', 'pw')).toMatchObject({ port: 143, secure: false, startTls: true });
    expect(settings('imap://u@192.0.2.10:1143', 'pw')).toMatchObject({ port: 1143, startTls: true });
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '127.0.0.2']) expect(settings(`imap://u@${host}:1143`, 'pw')).toMatchObject({ startTls: false });
    expect(settings('imap://u@[::1]:1143', 'pw').host).toBe('::1');
  });

  test('the folder comes from the path; the password from its variable, else from the URL, and is never shown', () => {
    expect(settings('imap://u@mail.example.org/Bounces%20In', 'pw')).toMatchObject({ mailbox: 'Bounces In', shown: 'imap://u@mail.example.org/Bounces%20In' });
    expect(settings('imap://u:in%20url@mail.example.org')).toMatchObject({ password: 'in url', shown: 'imap://u@mail.example.org' });
    expect(settings('imap://u:in-url@mail.example.org', 'from-variable').password).toBe('from-variable');
  });

  test('what is missing or wrong is said without the password', () => {
    expect(() => imapSettings({})).toThrow(expect.objectContaining({ code: 'imap-not-configured', message: expect.stringMatching(/^DIGEST_BOUNCE_IMAP_URL is not set/) }));
    expect(() => settings('imap://u@mail.example.org')).toThrow(expect.objectContaining({ code: 'imap-not-configured', message: 'no password for the bounce mailbox imap://u@mail.example.org: set DIGEST_BOUNCE_IMAP_PASSWORD' }));
    expect(() => settings('imap://mail.example.org', 'pw')).toThrow(expect.objectContaining({ code: 'invalid-imap-url', message: expect.stringContaining('names no user') }));
    expect(() => settings('pop3://u:secret@mail.example.org')).toThrow(expect.objectContaining({ code: 'invalid-imap-url', message: 'DIGEST_BOUNCE_IMAP_URL pop3://u@mail.example.org must start with imap:// or imaps://' }));
    expect(() => settings('imap://u:secret@mail.example.org:99999')).toThrow(expect.objectContaining({ code: 'invalid-imap-url', message: expect.not.stringContaining('secret') }));
    expect(() => settings('imap://u:secret%zz@mail.example.org')).toThrow(expect.objectContaining({ code: 'invalid-imap-url', message: 'DIGEST_BOUNCE_IMAP_URL imap://u@mail.example.org holds a broken %-escape' }));
  });
});
