// libmime: the one function (nodemailer's MIME library, a dependency of mailparser) that digest
// uses; the package ships no types.
declare module 'libmime' {
  /** An RFC 5322 header block → lower-cased field name → its values, folded lines joined. */
  export function decodeHeaders(headers: string, options?: { skipPrototypeKeys?: boolean }): Record<string, string[]>;
  const libmime: { decodeHeaders: typeof decodeHeaders };
  export default libmime;
}

// node-mbox splits an mbox file into its messages; the package ships no types.
declare module 'node-mbox' {
  import type { Transform } from 'node:stream';
  export function MboxStream(input: NodeJS.ReadableStream, options?: { includeMboxHeader?: boolean }): Transform;
}
