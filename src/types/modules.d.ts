// libmime: the one function (nodemailer's MIME library, a dependency of mailparser) that digest
// uses; the package ships no types.
declare module 'libmime' {
  /** An RFC 5322 header block → lower-cased field name → its values, folded lines joined. */
  export function decodeHeaders(headers: string, options?: { skipPrototypeKeys?: boolean }): Record<string, string[]>;
  const libmime: { decodeHeaders: typeof decodeHeaders };
  export default libmime;
}

// mbox-reader (by the authors of mailparser) splits an mbox file into its messages; no types shipped.
declare module 'mbox-reader' {
  export function mboxReader(input: NodeJS.ReadableStream, options?: { gz?: boolean }): AsyncGenerator<{ content: Buffer; returnPath?: string; time?: Date | false }>;
}
