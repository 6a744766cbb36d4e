/**
 * What the DNS preflight takes from mailauth, the library that receivers' own checks are modelled
 * on (SPF evaluation, DMARC discovery, DKIM key records). `spf` is its documented entry point; the
 * rest are internal modules with no types of their own (src/types/mailauth.d.ts), so package.json
 * pins mailauth's exact version and tests/preflight/dns.test.ts fails if any of them moves.
 */
import { spf } from 'mailauth/lib/spf/index.js';
import tools from 'mailauth/lib/tools.js';
import getDmarcRecord from 'mailauth/lib/dmarc/get-dmarc-record.js';
import parseDkimHeaders from 'mailauth/lib/parse-dkim-headers.js';

/** The version the internal paths below were read from; package.json pins the same. */
export const MAILAUTH_VERSION = '4.13.3';

export { spf, getDmarcRecord, parseDkimHeaders };
export const getPublicKey = tools.getPublicKey;
export const getAlignment = tools.getAlignment;
