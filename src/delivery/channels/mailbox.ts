import * as mimeFuncs from 'nodemailer/lib/mime-funcs';

/**
 * `"Name" <address>` for the JSON APIs that take a display name in one string (Postmark, Resend):
 * the name quoted as RFC 5322 asks, left in UTF-8 (JSON carries it; the provider encodes the
 * header), so a comma or a quote in a reader's name cannot split the address.
 */
export function mailbox(name: string | null | undefined, address: string): string {
  const clean = (name ?? '').replace(/[\r\n\t\v\f\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  return clean ? `${mimeFuncs.quoteString(clean)} <${address}>` : address;
}
