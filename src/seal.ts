import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { UserError } from './errors.js';

/**
 * Sealed tokens: a small JSON claim encrypted with AES-256-GCM under a key derived from
 * DIGEST_SECRET, one key per purpose. Sealed rather than only signed, so that addresses do not show
 * in the access logs of whatever proxies a link; GCM's tag makes a forged, altered or truncated
 * token fail to open, and its check is constant-time. A token is `VERSION.base64url(iv|data|tag)`.
 */
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type SealKey = Buffer & { readonly __brand?: 'seal-key' };

/** At least 32 characters: the secret guards what the tokens grant (an unsubscribe, a sign-up). */
export function sealKey(secret: string | undefined, purpose: string): SealKey {
  if (!secret || secret.length < 32) {
    throw new UserError('DIGEST_SECRET must be set to a random string of at least 32 characters (it seals the links digest sends)', {
      code: 'missing-secret',
    });
  }
  return Buffer.from(hkdfSync('sha256', secret, 'digest', purpose, 32));
}

export function seal(version: string, claim: unknown, key: SealKey): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(claim), 'utf8'), cipher.final()]);
  return `${version}.${Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')}`;
}

/** The claim a token holds, or undefined for anything forged, altered, truncated or malformed. */
export function unseal(version: string, token: string, key: SealKey): unknown {
  const [prefix, body, extra] = token.split('.');
  if (prefix !== version || !body || extra !== undefined || !/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
  const bytes = Buffer.from(body, 'base64url');
  // The decoder ignores stray trailing characters; only the exact encoding is the token.
  if (bytes.length <= IV_BYTES + TAG_BYTES || bytes.toString('base64url') !== body) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
