import * as qp from 'nodemailer/lib/qp';
import type { SpliceEncoding } from '../render/merge.js';

/**
 * Quoted-printable in pieces that can be joined as they are: each piece is encoded by nodemailer's
 * encoder, wrapped, and ends a line (a hard break of its own, or a soft `=` break, which decodes to
 * nothing). So the shared text is encoded once, a reader's fields are encoded alone, and a
 * message is their bytes laid end to end: no per-reader pass over the whole part.
 *
 * The pieces need no SMTP dot-stuffing (see `transparent` in message.ts): line breaks become
 * CRLF, and a dot that would begin a line is written =2E, as RFC 2045 allows for any character.
 * Lines are wrapped at 73, so that with that and the soft break after the last line none passes
 * the 76 characters RFC 2045 allows.
 */
export const quotedPrintablePieces: SpliceEncoding = { shared: piece, field: piece };

function piece(text: string): Buffer {
  if (!text) return Buffer.alloc(0);
  // Trailing white space of a piece is encoded (=20): the next piece may begin with a line break.
  const encoded = qp.wrap(qp.encode(text.replace(/\r\n|\r|\n/g, '\r\n')), 73).replace(/^\./gm, '=2E');
  return Buffer.from(encoded.endsWith('\r\n') ? encoded : `${encoded}=\r\n`, 'latin1');
}
