import { createHmac, hkdfSync } from 'node:crypto';
import { UserError } from '../errors.js';

/**
 * The tag in each message's envelope sender (VERP): `bounces+TAG@bounces.example.org`. A report
 * mailed back to that address names its reader and issue through the journal, which records each
 * message's tag, without trusting what the report says. The tag is a keyed hash of the issue and
 * the reader, so nobody without DIGEST_SECRET can make one that names a reader, and it is short and
 * of one case (hex) because mail servers may fold or cut the local part (at most 64 characters).
 */
export type BounceKey = Buffer & { readonly __purpose?: 'bounce tag' };

const TAG = /^[0-9a-f]{20}$/;

export function bounceKey(secret: string | undefined): BounceKey {
  if (!secret || secret.length < 32) {
    throw new UserError('DIGEST_SECRET must be set to a random string of at least 32 characters (it keys the bounce tags)', { code: 'missing-secret' });
  }
  return Buffer.from(hkdfSync('sha256', secret, 'digest', 'bounce tag v1', 32));
}

/** The tag for one reader's message of one issue: stable, so a retried message carries the same. */
export function bounceTag(key: BounceKey, issue: string, readerKey: string): string {
  return createHmac('sha256', key).update(`${issue}\0${readerKey}`).digest('hex').slice(0, 20);
}

/** `bounces@example.org` + tag → `bounces+tag@example.org`. */
export function verpAddress(bounceAddress: string, tag: string): string {
  const at = bounceAddress.lastIndexOf('@');
  return `${bounceAddress.slice(0, at)}+${tag}${bounceAddress.slice(at)}`;
}

/**
 * The tag in an address a report was mailed to, if it is the bounce address with one. Without a
 * configured bounce address, any `local+TAG@` of the right shape is taken: the journal decides.
 */
export function tagOf(address: string, bounceAddress?: string): string | undefined {
  const match = /^\s*<?([^\s<>@+]+)\+([^\s<>@]+)@([^\s<>@]+?)>?\s*$/.exec(address);
  if (!match) return undefined;
  const [, local, tag, domain] = match;
  if (bounceAddress) {
    const at = bounceAddress.lastIndexOf('@');
    if (local!.toLowerCase() !== bounceAddress.slice(0, at).toLowerCase() || domain!.toLowerCase() !== bounceAddress.slice(at + 1).toLowerCase()) return undefined;
  }
  const lower = tag!.toLowerCase();
  return TAG.test(lower) ? lower : undefined;
}
