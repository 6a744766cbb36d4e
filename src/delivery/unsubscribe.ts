import { seal, sealKey, unseal, type SealKey } from '../seal.js';

/**
 * Unsubscribe tokens. Each message carries its reader's own link; the token in it is the reader's
 * address and the issue, sealed (src/seal.ts) under a key of its own derived from DIGEST_SECRET.
 * Links already sent must keep working: the version, the key's derivation and the claim's shape
 * are fixed.
 */
export interface UnsubscribeClaim {
  email: string;
  /** The issue the link was sent in, for the consent record. */
  issue: string;
}

const VERSION = 'u1';

export type UnsubscribeKey = SealKey & { readonly __purpose?: 'unsubscribe' };

/** At least 32 characters: the secret guards every reader's ability to be unsubscribed by others. */
export function unsubscribeKey(secret: string | undefined): UnsubscribeKey {
  return sealKey(secret, 'unsubscribe token v1');
}

export function sealUnsubscribe(claim: UnsubscribeClaim, key: UnsubscribeKey): string {
  return seal(VERSION, { e: claim.email, i: claim.issue }, key);
}

/** The claim a token holds, or undefined for anything forged, altered, truncated or malformed. */
export function openUnsubscribe(token: string, key: UnsubscribeKey): UnsubscribeClaim | undefined {
  const parsed = unseal(VERSION, token, key) as { e?: unknown; i?: unknown } | undefined;
  if (typeof parsed?.e !== 'string' || typeof parsed.i !== 'string') return undefined;
  return { email: parsed.e, issue: parsed.i };
}

/** `https://news.example/u` + token → `https://news.example/u/u1.…` */
export function unsubscribeUrl(base: string, token: string): string {
  return `${base.replace(/\/+$/, '')}/${token}`;
}
