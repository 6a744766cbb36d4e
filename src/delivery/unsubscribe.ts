import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';

/**
 * Unsubscribe tokens. Each message carries its reader's own link; the token in it is the reader's
 * address and the issue, sealed with AES-256-GCM under a key derived from DIGEST_SECRET. Sealed
 * rather than only signed, so that addresses do not show in the access logs of whatever proxies the
 * link; GCM's tag makes a forged, altered or truncated token fail to open, and its tag check is
 * constant-time.
 */
export interface UnsubscribeClaim {
  email: string;
  /** The issue the link was sent in, for the consent record. */
  issue: string;
}

const VERSION = 'u1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type UnsubscribeKey = Buffer & { readonly __brand?: 'unsubscribe-key' };

/** At least 32 characters: the secret guards every reader's ability to be unsubscribed by others. */
export function unsubscribeKey(secret: string | undefined): UnsubscribeKey {
  if (!secret || secret.length < 32) {
    throw new UserError('DIGEST_SECRET must be set to a random string of at least 32 characters (it signs unsubscribe links)', {
      code: 'missing-secret',
    });
  }
  return Buffer.from(hkdfSync('sha256', secret, 'digest', 'unsubscribe token v1', 32));
}

export function sealUnsubscribe(claim: UnsubscribeClaim, key: UnsubscribeKey): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify({ e: claim.email, i: claim.issue }), 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64url')}`;
}

/** The claim a token holds, or undefined for anything forged, altered, truncated or malformed. */
export function openUnsubscribe(token: string, key: UnsubscribeKey): UnsubscribeClaim | undefined {
  const [version, body, extra] = token.split('.');
  if (version !== VERSION || !body || extra !== undefined || !/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
  const bytes = Buffer.from(body, 'base64url');
  // The decoder ignores stray trailing characters; only the exact encoding is the token.
  if (bytes.length <= IV_BYTES + TAG_BYTES || bytes.toString('base64url') !== body) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    const parsed = JSON.parse(plain.toString('utf8')) as { e?: unknown; i?: unknown };
    if (typeof parsed.e !== 'string' || typeof parsed.i !== 'string') return undefined;
    return { email: parsed.e, issue: parsed.i };
  } catch {
    return undefined;
  }
}

/** `https://news.example/u` + token → `https://news.example/u/u1.…` */
export function unsubscribeUrl(base: string, token: string): string {
  return `${base.replace(/\/+$/, '')}/${token}`;
}
