import { domainToASCII } from 'node:url';

/** What checking an address gives: the address as stored (trimmed), or why it cannot be mailed. */
export type AddressCheck =
  | { ok: true; address: string; international: boolean }
  | { ok: false; reason: string };

// RFC 5322 atext, plus any non-ASCII character (RFC 6531 lets UTF-8 into the local part).
const localAtom = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uFFFF-]+$/u;
const asciiLabel = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// Spaces, C0/C1 controls and the invisible format characters that make two addresses look alike.
const invisible = /[\s\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff]/u;
/**
 * Nearly every address in a list is plain ASCII that passes every rule below, and an import checks a
 * million of them: this one test accepts exactly such addresses (dot-separated atext, one @, two or
 * more LDH labels, the last not all digits), leaving the lengths of the whole and of the local part
 * to check. Anything else, good or bad, goes through the rules one by one, which give the reason.
 */
const plainAddress = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?![0-9]+$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * The practical rules of RFC 5321/5322 that decide whether an address can be mailed, not the whole
 * grammar: quoted local parts, comments and address literals are legal but almost always a mistake in
 * a list, so they are refused with a reason rather than stored and bounced later. Addresses with
 * non-ASCII characters (SMTPUTF8, IDN) are accepted and flagged, since not every relay takes them.
 */
export function checkAddress(raw: string): AddressCheck {
  if (raw.length <= 254 && raw.indexOf('@') <= 64 && plainAddress.test(raw)) return { ok: true, address: raw, international: false };
  return checkByRules(raw);
}

/** The rules one at a time: what checkAddress does for anything its one test does not accept. Exported for a test that compares the two. */
export function checkByRules(raw: string): AddressCheck {
  const address = raw.trim();
  if (address === '') return { ok: false, reason: 'the address is empty' };
  if (invisible.test(address)) return { ok: false, reason: 'the address contains a space or a control character' };
  if (Buffer.byteLength(address) > 254) return { ok: false, reason: 'the address is longer than 254 characters' };
  const at = address.lastIndexOf('@');
  if (at === -1) return { ok: false, reason: 'the address has no @' };
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local === '') return { ok: false, reason: 'the address has nothing before the @' };
  if (domain === '') return { ok: false, reason: 'the address has no domain after the @' };
  if (local.includes('@')) return { ok: false, reason: 'the address has more than one @' };
  if (local.startsWith('"')) return { ok: false, reason: 'quoted local parts ("…"@) are not accepted' };
  if (Buffer.byteLength(local) > 64) return { ok: false, reason: 'the part before the @ is longer than 64 characters' };
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return { ok: false, reason: 'the part before the @ has a misplaced dot' };
  }
  for (const atom of local.split('.')) {
    if (!localAtom.test(atom)) return { ok: false, reason: 'the part before the @ contains a character not allowed in an address' };
  }
  if (domain.startsWith('[')) return { ok: false, reason: 'address literals such as [192.0.2.1] are not accepted' };

  const domainCheck = checkDomain(domain);
  if (domainCheck) return { ok: false, reason: domainCheck };
  // eslint-disable-next-line no-control-regex
  const international = /[^\x00-\x7f]/.test(address);
  return { ok: true, address, international };
}

function checkDomain(domain: string): string | undefined {
  // An internationalised domain is checked as DNS sees it: its punycode (xn--) form.
  const ascii = /[^\x00-\x7f]/.test(domain) ? domainToASCII(domain) : domain;
  if (ascii === '') return 'the domain is not a valid internationalised domain name';
  if (ascii.length > 253) return 'the domain is longer than 253 characters';
  const labels = ascii.split('.');
  if (labels.length < 2) return 'the domain has no dot (such as example.com)';
  for (const label of labels) {
    if (label === '') return 'the domain has an empty label (two dots, or a dot at an end)';
    if (label.length > 63) return 'a label of the domain is longer than 63 characters';
    if (!asciiLabel.test(label)) return `the domain label "${label}" may hold only letters, digits and inner hyphens`;
  }
  if (/^[0-9]+$/.test(labels.at(-1)!)) return 'the domain ends in a number, not a top-level domain';
  return undefined;
}
