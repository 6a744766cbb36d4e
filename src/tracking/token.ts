import { seal, sealKey, unseal, type SealKey } from '../seal.js';

/**
 * Click tokens. A tracked link is `<baseUrl>/c/<link token>[/<reader token>]`. The link token holds
 * the issue and the URL, sealed (src/seal.ts), so the redirect needs no lookup and keeps working for
 * issues sent years ago, and it can only lead where the editor's link led: a URL is never taken from
 * the request. The reader token, one per reader, names whom a click is counted for
 * (tracking.perReader). Each has a key of its own, so that neither opens as the other, nor as an
 * unsubscribe token. Links already sent must keep working: versions, purposes and claims are fixed.
 */
export interface ClickClaim {
  issue: string;
  url: string;
}

export interface ReaderClaim {
  /** emailKey(address): the reader's identity in the database, as reader_clicks keeps it. */
  emailKey: string;
  issue: string;
}

const LINK_VERSION = 'c1';
const READER_VERSION = 'r1';

export type ClickKey = SealKey & { readonly __purpose?: 'click' };
export type ReaderKey = SealKey & { readonly __purpose?: 'click-reader' };

export function clickKey(secret: string | undefined): ClickKey {
  return sealKey(secret, 'click');
}

export function readerKey(secret: string | undefined): ReaderKey {
  return sealKey(secret, 'click-reader');
}

export function sealClick(claim: ClickClaim, key: ClickKey): string {
  return seal(LINK_VERSION, { i: claim.issue, u: claim.url }, key);
}

/**
 * The claim, or undefined for anything forged, altered or malformed, and for a URL that is not
 * http: or https: even when sealed, so that no token can ever send a browser to javascript: or data:.
 */
export function openClick(token: string, key: ClickKey): (ClickClaim & { location: string }) | undefined {
  const parsed = unseal(LINK_VERSION, token, key) as { i?: unknown; u?: unknown } | undefined;
  if (typeof parsed?.i !== 'string' || typeof parsed.u !== 'string') return undefined;
  const location = webUrl(parsed.u);
  return location ? { issue: parsed.i, url: parsed.u, location } : undefined;
}

export function sealReader(claim: ReaderClaim, key: ReaderKey): string {
  return seal(READER_VERSION, { e: claim.emailKey, i: claim.issue }, key);
}

export function openReader(token: string, key: ReaderKey): ReaderClaim | undefined {
  const parsed = unseal(READER_VERSION, token, key) as { e?: unknown; i?: unknown } | undefined;
  if (typeof parsed?.e !== 'string' || typeof parsed.i !== 'string') return undefined;
  return { emailKey: parsed.e, issue: parsed.i };
}

/**
 * The URL as a Location header can carry it (non-ASCII percent-encoded), when it is an absolute
 * http(s) URL with a host; otherwise undefined.
 */
export function webUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || !parsed.hostname) return undefined;
  return parsed.href;
}

/** Where a tracked link's tokens follow: `https://news.example/letter` → `https://news.example/letter/c/`. */
export function clickBase(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/c/`;
}
