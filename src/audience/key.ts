import { createHmac } from 'node:crypto';

/**
 * The form in which two addresses are the same subscriber: case-insensitive, and Unicode-normalised
 * so that an é typed two ways is one address. The stored address stays as the subscriber gave it.
 */
export function emailKey(email: string): string {
  const trimmed = email.trim();
  // ASCII is its own NFC form, and nearly every address is ASCII: normalising it is wasted work.
  return (nonAscii.test(trimmed) ? trimmed.normalize('NFC') : trimmed).toLowerCase();
}

// eslint-disable-next-line no-control-regex
const nonAscii = /[^\x00-\x7f]/;

/**
 * The one-way trace `remove` leaves of an erased address. Keyed with a secret kept in the database,
 * so that the table of erased hashes alone cannot be checked against a list of known addresses.
 */
export function erasureHash(email: string, secret: string): string {
  return createHmac('sha256', secret).update(emailKey(email)).digest('hex');
}
