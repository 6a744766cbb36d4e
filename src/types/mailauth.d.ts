// mailauth's modules that its own type definitions do not cover: its internal helpers, which the
// DNS preflight (src/preflight/mailauth.ts) uses. package.json pins mailauth's exact version for
// them, and tests/preflight/dns.test.ts fails if one of them moves or changes shape.

declare module 'mailauth/lib/tools.js' {
  /** A TXT answer's strings (DNS splits long records into strings of up to 255 bytes). */
  type Resolver = (name: string, type: string) => Promise<unknown>;
  const tools: {
    /**
     * The DKIM (or ARC) key published at `name`: the first TXT record, parsed and checked (base64,
     * v=DKIM1, k= against the key's type, at least `minBitLength` bits for RSA). Throws with `code`
     * EINVALIDVAL (no p=, or bad base64), EINVALIDVER, EINVALIDTYPE or ESHORTKEY, and `rr` the
     * record; DNS errors as the resolver threw them.
     */
    getPublicKey(type: 'DKIM' | 'ARC', name: string, minBitLength: number, resolver: Resolver): Promise<{ publicKey: string; rr: string; modulusLength?: number }>;
    /**
     * The first of `domains` that aligns with `fromDomain`: the same organisational domain (the
     * public suffix list, through tldts). With a truthy `strict`, mailauth 4.13.3 still falls back
     * to the organisational match, so digest passes false and checks strict alignment itself.
     */
    getAlignment(fromDomain: string, domains: Array<string | { domain: string }>, strict: unknown): { domain: string } | false;
  };
  export default tools;
}

declare module 'mailauth/lib/dmarc/get-dmarc-record.js' {
  /**
   * The DMARC record of `domain`, else of its organisational domain (`isOrgRecord`): its tags
   * lower-cased (`p`, `sp`, `adkim`, `aspf`, `pct` as a number…) and `rr` the record. False when
   * there is none, or more than one. DNS errors other than no-such-record are thrown.
   */
  function getDmarcRecord(
    domain: string,
    resolver: (name: string, type: string) => Promise<unknown>,
  ): Promise<(Record<string, string | number | boolean | undefined> & { rr: string; isOrgRecord: boolean }) | false>;
  export default getDmarcRecord;
}

declare module 'mailauth/lib/parse-dkim-headers.js' {
  /** A DKIM-style tag list (`DNS: TXT;v=DKIM1; k=rsa; p=…`) → its tags, each `{ value }`. */
  function parseDkimHeaders(header: string): { parsed?: Record<string, { value?: string } | undefined> };
  export default parseDkimHeaders;
}
