import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dkimFromEnvironment } from '../../src/delivery/dkim.js';

const pem = (type: 'rsa' | 'ec' | 'ed25519') =>
  (type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 1024 }) : type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')).privateKey
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();

/** The DKIM key is checked when it is read: nodemailer's signer would pass a message through unsigned without a word. */
describe('DKIM settings from the environment', () => {
  it('takes an RSA key in PEM and signs with it', async () => {
    const signer = dkimFromEnvironment('gazette.example', { DIGEST_DKIM_PRIVATE_KEY: pem('rsa'), DIGEST_DKIM_SELECTOR: 's1' });
    expect(signer?.settings).toMatchObject({ domainName: 'gazette.example', keySelector: 's1' });
  });

  it.each([
    ['text that is not a key', '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----'],
    ['an EC key the signer cannot use', pem('ec')],
    ['an Ed25519 key the signer cannot use', pem('ed25519')],
  ])('refuses %s with one line, before anything is sent', (_what, key) => {
    expect(() => dkimFromEnvironment('gazette.example', { DIGEST_DKIM_PRIVATE_KEY: key, DIGEST_DKIM_SELECTOR: 's1' })).toThrow(
      /^DIGEST_DKIM_PRIVATE_KEY is not a usable DKIM private key \(an RSA key in PEM\): /,
    );
  });
});
