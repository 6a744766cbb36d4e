/** Response headers as undici gives them. */
export type Headers = Record<string, string | string[] | undefined>;

/**
 * How long a rate-limited answer asks us to wait, in milliseconds, or undefined when it does not
 * say. `Retry-After` comes first (RFC 9110: delay-seconds or an HTTP date); then the reset headers
 * providers send instead, whose unit they disagree on: seconds until the reset (the IETF
 * RateLimit draft, Resend's `ratelimit-reset`) or the moment of the reset as a Unix time, in
 * seconds (SendGrid's `X-RateLimit-Reset`) or in milliseconds. A value too large to be a delay
 * in seconds is taken for a Unix time.
 */
export function waitFromHeaders(headers: Headers, now = Date.now()): number | undefined {
  const retryAfter = first(headers['retry-after'])?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Number(retryAfter) * 1000;
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  for (const name of ['ratelimit-reset', 'x-ratelimit-reset']) {
    const value = first(headers[name])?.trim();
    if (!value || !/^\d+(\.\d+)?$/.test(value)) continue;
    const number = Number(value);
    if (number > 1e12) return Math.max(0, number - now);
    if (number > 1e9) return Math.max(0, number * 1000 - now);
    return number * 1000;
  }
  return undefined;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
