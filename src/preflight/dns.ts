import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { domainToASCII } from 'node:url';
import addressparser from 'nodemailer/lib/addressparser';
import { CONFIG_FILE, type ResolvedConfig } from '../config.js';
import { dkimFromEnvironment, type DkimSettings } from '../delivery/dkim.js';
import type { Diagnostic } from '../issue/diagnostic.js';
import { parseYaml } from '../yaml.js';
import type { CheckResult, PreflightCheck, PreflightContext } from './check.js';
import { isUserError } from '../errors.js';

/**
 * mailauth, loaded once the check is going to ask DNS: `digest send` runs this check before every
 * real send, and a run that is skipped (no from:, a reserved name) should not pay for loading it.
 */
let mailauth: typeof import('./mailauth.js');

/**
 * The sending domain as receivers will see it: SPF at the domain SPF checks (the envelope sender's:
 * the bounce address's domain when there is one, else From's) and at From's; the DKIM key published
 * for our selector against the private key we sign with; DMARC and whether SPF or DKIM aligns with
 * From under its policy; MX, so that replies and bounces have somewhere to go.
 *
 * The parsing and evaluation is mailauth's (src/preflight/mailauth.ts), the library receivers'
 * checks are modelled on, on top of node:dns with the servers of DIGEST_DNS_SERVERS and a timeout.
 * "No such record" and "no answer" are kept apart: a server that fails or times out is said as
 * `dns-failure`, never taken for a missing record.
 */

export interface DnsCheckOptions {
  /** Milliseconds to wait for one answer before asking again (default 2000). */
  timeoutMs?: number;
  /** Times each question is sent before it fails (default 2). */
  tries?: number;
  /** Where DIGEST_DKIM_* (and DIGEST_FROM, DIGEST_BOUNCE_ADDRESS for lines) are read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export function createDnsCheck(options: DnsCheckOptions = {}): PreflightCheck {
  // The domain is the config's, not the issue's: checking several issues in one run asks DNS once.
  // A minute at most, so that the preview (one config for hours) sees a record once it is fixed.
  const done = new WeakMap<PreflightContext['config'], { at: number; result: Promise<CheckResult> }>();
  return {
    id: 'dns',
    title: 'the sending domain in DNS (SPF, DKIM, DMARC, MX)',
    run(context) {
      let earlier = done.get(context.config);
      if (!earlier || Date.now() - earlier.at > 60_000) {
        earlier = { at: Date.now(), result: checkDomain(context, options) };
        done.set(context.config, earlier);
      }
      return earlier.result.then((found) => ({ ...found, diagnostics: [...found.diagnostics], notes: found.notes && [...found.notes] }));
    },
  };
}

export const dnsCheck: PreflightCheck = createDnsCheck();

// ---------------------------------------------------------------------------------------------
// DNS: one Resolver per run, answers shared between the parts (mailauth asks some of them again)

/** Special-use top-level names: .test, .example, .invalid, .localhost (RFC 2606, 6761), .local (mDNS, RFC 6762). */
const RESERVED = /(^|\.)(test|example|invalid|localhost|local)$/;

/** An address from TEST-NET-1 (RFC 5737): no sender's SPF has reason to allow it. */
const PROBE_IP = '192.0.2.1';

/** Node's codes for an answer that says the record is not there: the name (NXDOMAIN), or its type. */
const ABSENT = new Set(['ENOTFOUND', 'ENODATA']);

const FAILURES: Record<string, string> = {
  ETIMEOUT: 'timed out',
  ESERVFAIL: 'SERVFAIL (the server could not get an answer)',
  EREFUSED: 'REFUSED by the server',
  ECONNREFUSED: 'connection refused (no DNS server listening there)',
  EBADRESP: 'a malformed answer',
  ECANCELLED: 'cancelled',
};

interface DnsError extends Error {
  code?: string;
  hostname?: string;
}

function isAbsent(error: unknown): boolean {
  return ABSENT.has((error as DnsError)?.code ?? '');
}

class Dns {
  private readonly resolver: Resolver;
  private readonly answers = new Map<string, Promise<unknown>>();
  /** Questions that got an answer, "no such record" included. */
  answered = 0;
  /** Questions that got none. */
  readonly failures: { name: string; type: string; code: string }[] = [];

  constructor(
    readonly servers: string[] | undefined,
    options: { timeoutMs: number; tries: number },
  ) {
    this.resolver = new Resolver({ timeout: options.timeoutMs, tries: options.tries });
    if (servers?.length) this.resolver.setServers(servers);
  }

  /** `dns.promises.resolve`'s answer (TXT: string[][], MX: {exchange, priority}[]), asked once per run. */
  resolve(name: string, type: string): Promise<unknown> {
    const key = `${type} ${name.toLowerCase()}`;
    let answer = this.answers.get(key);
    if (!answer) {
      answer = this.resolver.resolve(name, type).then(
        (records) => {
          this.answered++;
          return records;
        },
        (error: DnsError) => {
          if (isAbsent(error)) this.answered++;
          else this.failures.push({ name, type, code: error.code ?? error.message });
          throw error;
        },
      );
      this.answers.set(key, answer);
    }
    return answer;
  }

  /** The resolver function mailauth takes. */
  get forMailauth(): (name: string, type: string) => Promise<never> {
    return (name, type) => this.resolve(name, type) as Promise<never>;
  }

  cancel(): void {
    this.resolver.cancel();
  }

  describe(): string {
    const servers = this.resolver.getServers().join(', ');
    return this.servers?.length ? servers : `the system's resolver (${servers || 'none configured'})`;
  }
}

function failureText(error: unknown): string {
  const { code, message } = error as DnsError;
  return (code && FAILURES[code]) || code || message;
}

// ---------------------------------------------------------------------------------------------
// SPF

type SpfState = 'ok' | 'missing' | 'multiple' | 'invalid' | 'lookups' | 'unknown';

interface SpfFinding {
  domain: string;
  state: SpfState;
  /** The record, when there is one. */
  rr?: string;
  /** What mailauth says went wrong (invalid, unknown), or the DNS failure. */
  reason?: string;
  lookups?: { count: number; limit: number };
  /** An address of TEST-NET passes: `+all` or a mechanism that takes everyone. */
  passesAnyone?: boolean;
  /** The record ends in `?all`, or has no `all` and no `redirect=`: neutral for everyone not listed. */
  neutral?: 'explicit' | 'no-all';
}

async function checkSpf(dns: Dns, domain: string): Promise<SpfFinding> {
  let txt: string[][];
  try {
    txt = (await dns.resolve(domain, 'TXT')) as string[][];
  } catch (error) {
    if (!isAbsent(error)) return { domain, state: 'unknown', reason: `TXT ${domain}: ${failureText(error)}` };
    txt = [];
  }
  // SPF's own selection rule (RFC 7208 4.5): records that begin with the version, alone or before a space.
  const records = txt.map((strings) => strings.join('')).filter((record) => /^v=spf1(\s|$)/i.test(record.trim()));
  if (records.length === 0) return { domain, state: 'missing' };
  if (records.length > 1) return { domain, state: 'multiple', reason: records.join(' | ') };
  const rr = records[0]!.trim();

  // mailauth evaluates the record for a sender nobody allows: the errors receivers would get
  // (syntax, more than 10 lookups, void lookups), the lookup count, and what "everyone else" gets.
  // A server that gives no answer is a temperror, whichever lookup of the evaluation it was.
  const resolver = async (name: string, type: string) => {
    try {
      return await dns.resolve(name, type);
    } catch (error) {
      if (!isAbsent(error)) Object.assign(error as object, { spfResult: { error: 'temperror', text: `${type} ${name}: ${failureText(error)}` } });
      throw error;
    }
  };
  const result = await mailauth.spf({ sender: `postmaster@${domain}`, ip: PROBE_IP, helo: 'preflight.digest.invalid', mta: 'digest', resolver: resolver as never });
  const reason = result.status.comment?.replace(/^.*? during lookup of \S+?(: |$)/, '') || undefined;
  const lookups = result.lookups ? { count: result.lookups.count, limit: result.lookups.limit } : undefined;
  switch (result.status.result) {
    case 'temperror':
      return { domain, state: 'unknown', rr, reason };
    case 'permerror':
      if (lookups && lookups.count > lookups.limit) return { domain, state: 'lookups', rr, reason, lookups };
      return { domain, state: 'invalid', rr, reason };
    case 'none':
      return { domain, state: 'missing' };
  }
  const terms = rr.split(/\s+/).slice(1);
  const all = terms.find((term) => /^[+?~-]?all$/i.test(term));
  const redirect = terms.some((term) => /^redirect=/i.test(term));
  return {
    domain,
    state: 'ok',
    rr,
    lookups,
    passesAnyone: result.status.result === 'pass',
    neutral: all ? (/^\?/.test(all) ? 'explicit' : undefined) : redirect ? undefined : 'no-all',
  };
}

// ---------------------------------------------------------------------------------------------
// DKIM

type DkimState = 'unsigned' | 'config' | 'ok' | 'missing' | 'revoked' | 'invalid' | 'key-type' | 'short' | 'mismatch' | 'unknown';

interface DkimFinding {
  state: DkimState;
  settings?: DkimSettings;
  /** `selector._domainkey.domain` */
  name?: string;
  rr?: string;
  reason?: string;
  ourType?: string;
  theirType?: string;
  bits?: number;
  /** For `config`: the code the sender's own refusal has (`invalid-dkim`), so that every check says it alike. */
  code?: string;
}

/** An RSA key under 1024 bits is refused by verifiers (RFC 8301); mailauth refuses it too. */
const MIN_RSA_BITS = 1024;

function dkimSettings(fromDomain: string, env: NodeJS.ProcessEnv): DkimFinding {
  let settings: DkimSettings | undefined;
  try {
    settings = dkimFromEnvironment(fromDomain, env)?.settings;
  } catch (error) {
    return { state: 'config', reason: (error as Error).message, code: isUserError(error) ? error.code : undefined };
  }
  if (!settings) return { state: 'unsigned' };
  const domain = domainToASCII(settings.domainName.trim().toLowerCase().replace(/\.$/, ''));
  if (!domain) return { state: 'config', reason: `DIGEST_DKIM_DOMAIN "${settings.domainName}" is not a domain name` };
  return { state: 'ok', settings: { ...settings, domainName: domain }, name: `${settings.keySelector}._domainkey.${domain}` };
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

async function checkDkim(dns: Dns, found: DkimFinding): Promise<DkimFinding> {
  if (found.state !== 'ok' || !found.settings || !found.name) return found;
  const name = found.name;
  let ours: KeyObject;
  try {
    ours = createPublicKey(createPrivateKey(found.settings.privateKey));
  } catch (error) {
    return { ...found, state: 'config', code: 'invalid-dkim', reason: `the key in DIGEST_DKIM_PRIVATE_KEY cannot be read as a private key (${(error as Error).message.split('\n')[0]})` };
  }
  const ourType = ours.asymmetricKeyType;
  let published: { publicKey: string; rr: string; modulusLength?: number };
  try {
    published = await mailauth.getPublicKey('DKIM', name, MIN_RSA_BITS, dns.forMailauth);
  } catch (error) {
    const { code, message } = error as DnsError;
    const rr = (error as { rr?: string }).rr;
    if (isAbsent(error)) return { ...found, state: 'missing', ourType };
    switch (code) {
      case 'EINVALIDVAL': {
        if (rr === undefined) return { ...found, state: 'missing', ourType };
        const p = mailauth.parseDkimHeaders(`DNS: TXT;${rr}`).parsed?.p;
        if (p && !p.value) return { ...found, state: 'revoked', rr, ourType };
        return { ...found, state: 'invalid', rr, reason: message.toLowerCase(), ourType };
      }
      case 'EINVALIDVER':
        return { ...found, state: 'invalid', rr, reason: 'its v= is not DKIM1', ourType };
      case 'EINVALIDTYPE':
        return { ...found, state: 'key-type', rr, reason: 'its key is of no type DKIM knows, or not the type its k= says', ourType };
      case 'ESHORTKEY':
        return { ...found, state: 'short', rr, ourType };
    }
    if (code && (FAILURES[code] || /^E[A-Z]+$/.test(code))) return { ...found, state: 'unknown', reason: `TXT ${name}: ${failureText(error)}`, ourType };
    return { ...found, state: 'invalid', rr, reason: message, ourType };
  }
  const theirs = createPublicKey(published.publicKey);
  const theirType = theirs.asymmetricKeyType;
  const bits = published.modulusLength ?? ours.asymmetricKeyDetails?.modulusLength;
  if (theirType !== ourType) return { ...found, state: 'key-type', rr: published.rr, ourType, theirType };
  if (!spki(theirs).equals(spki(ours))) return { ...found, state: 'mismatch', rr: published.rr, ourType, theirType, bits };
  return { ...found, state: 'ok', rr: published.rr, ourType, theirType, bits };
}

// ---------------------------------------------------------------------------------------------
// DMARC

interface DmarcFinding {
  state: 'ok' | 'missing' | 'unknown';
  rr?: string;
  /** Where it was found: `_dmarc.<From domain>`, or `_dmarc.<organisational domain>`. */
  at?: string;
  isOrgRecord?: boolean;
  p?: string;
  sp?: string;
  /** The policy for our From: sp= when the record is the organisational domain's and has one, else p=. */
  policy?: string;
  pct?: number;
  strictSpf?: boolean;
  strictDkim?: boolean;
  reason?: string;
}

const POLICIES = new Set(['none', 'quarantine', 'reject']);

const SPF_FAULTS: Record<SpfState, string> = {
  ok: '',
  missing: 'no record',
  multiple: 'more than one record',
  invalid: 'an invalid record',
  lookups: 'too many DNS lookups',
  unknown: 'not checked',
};

const DKIM_FAULTS: Record<DkimState, string> = {
  ok: '',
  unsigned: '',
  config: '',
  missing: 'no key record',
  revoked: 'the key is revoked',
  invalid: 'an unusable record',
  'key-type': 'a key of another type',
  short: 'a key too short',
  mismatch: 'a different key from ours',
  unknown: 'not checked',
};

async function checkDmarc(dns: Dns, fromDomain: string): Promise<DmarcFinding> {
  const asked: string[] = [];
  const resolver = (name: string, type: string) => {
    asked.push(name);
    return dns.resolve(name, type);
  };
  let record: Awaited<ReturnType<typeof mailauth.getDmarcRecord>>;
  try {
    record = await mailauth.getDmarcRecord(fromDomain, resolver);
  } catch (error) {
    return { state: 'unknown', reason: `TXT ${asked.at(-1) ?? `_dmarc.${fromDomain}`}: ${failureText(error)}` };
  }
  if (!record) return { state: 'missing', at: `_dmarc.${fromDomain}` };
  const text = (value: unknown) => (typeof value === 'string' ? value.trim().toLowerCase() : undefined);
  const p = text(record.p);
  const sp = text(record.sp);
  return {
    state: 'ok',
    rr: record.rr,
    at: asked.at(-1),
    isOrgRecord: record.isOrgRecord,
    p,
    sp,
    policy: record.isOrgRecord && sp ? sp : p,
    pct: typeof record.pct === 'number' && record.pct !== 0 ? record.pct : undefined,
    strictSpf: text(record.aspf) === 's',
    strictDkim: text(record.adkim) === 's',
  };
}

/** DMARC identifier alignment (RFC 7489 3.1): strict is the same name, relaxed the same organisational domain. */
function aligns(fromDomain: string, other: string, strict: boolean): boolean {
  if (strict) return fromDomain === other;
  return Boolean(mailauth.getAlignment(fromDomain, [other], false));
}

// ---------------------------------------------------------------------------------------------
// MX

interface MxFinding {
  domain: string;
  state: 'ok' | 'null' | 'missing' | 'unknown';
  records?: { exchange: string; priority: number }[];
  /** With no MX, whether mail falls back to an A or AAAA record (RFC 5321 5.1's implicit MX). */
  address?: boolean;
  reason?: string;
}

async function checkMx(dns: Dns, domain: string): Promise<MxFinding> {
  let records: { exchange: string; priority: number }[];
  try {
    records = (await dns.resolve(domain, 'MX')) as { exchange: string; priority: number }[];
  } catch (error) {
    if (!isAbsent(error)) return { domain, state: 'unknown', reason: `MX ${domain}: ${failureText(error)}` };
    records = [];
  }
  records = [...records].sort((a, b) => a.priority - b.priority);
  // RFC 7505: a single MX of "." (which c-ares gives as an empty name) says the domain takes no mail.
  if (records.some((record) => record.exchange === '' || record.exchange === '.')) return { domain, state: 'null', records };
  if (records.length) return { domain, state: 'ok', records };
  const addresses = await Promise.allSettled([dns.resolve(domain, 'A'), dns.resolve(domain, 'AAAA')]);
  const address = addresses.some((answer) => answer.status === 'fulfilled' && (answer.value as unknown[]).length > 0);
  const failed = addresses.find((answer) => answer.status === 'rejected' && !isAbsent(answer.reason));
  if (!address && failed) return { domain, state: 'unknown', reason: `A/AAAA ${domain}: ${failureText((failed as PromiseRejectedResult).reason)}` };
  return { domain, state: 'missing', address };
}

// ---------------------------------------------------------------------------------------------
// The check

interface Where {
  file: string;
  fromLine?: number;
  bounceLine?: number;
}

/** The config file, and the lines of from: and bounceAddress: when the values in use are the ones written there. */
async function configLines(config: ResolvedConfig): Promise<Where> {
  // As the editor would type it: relative to the working folder when the file is inside it.
  const shown = config.file ? relative(process.cwd(), config.file) : CONFIG_FILE;
  const where: Where = { file: config.file && !shown.startsWith('..') && !isAbsolute(shown) ? shown : (config.file ?? CONFIG_FILE) };
  if (!config.file) return where;
  try {
    const located = parseYaml(await readFile(config.file, 'utf8'), where.file);
    const data = (located.data ?? {}) as Record<string, unknown>;
    if (data.from === config.from) where.fromLine = located.lineOf(['from']);
    if (config.bounceAddress && data.bounceAddress === config.bounceAddress) where.bounceLine = located.lineOf(['bounceAddress']);
  } catch {
    // The config was read once already; a line is a convenience.
  }
  return where;
}

function domainOf(address: string): string | undefined {
  const domain = address.slice(address.lastIndexOf('@') + 1).trim().toLowerCase().replace(/\.$/, '');
  if (!address.includes('@') || !domain) return undefined;
  return domainToASCII(domain) || undefined;
}

async function checkDomain(context: PreflightContext, options: DnsCheckOptions): Promise<CheckResult> {
  const { config } = context;
  const env = options.env ?? process.env;
  if (!config.from) return { check: 'dns', diagnostics: [], skipped: 'no from: address in the config (or DIGEST_FROM), so no sending domain to look up' };
  const [sender] = addressparser(config.from, { flatten: true });
  const fromAddress = sender?.address ?? '';
  const fromDomain = domainOf(fromAddress);
  if (!fromDomain) return { check: 'dns', diagnostics: [], skipped: `from: "${config.from}" holds no email address with a domain to look up` };
  const bounceDomain = config.bounceAddress ? domainOf(config.bounceAddress) : undefined;
  const envelopeDomain = bounceDomain ?? fromDomain;
  // Names public DNS never holds (RFC 2606, 6761, 6762): asking the system's resolver about them
  // yields only "no such domain" everywhere. Checked when DIGEST_DNS_SERVERS names a server that may
  // answer for them (a test's, a lab's), skipped otherwise.
  const reserved = [fromDomain, bounceDomain].find((domain) => domain && RESERVED.test(domain));
  if (reserved && !context.dnsServers?.length) {
    return { check: 'dns', diagnostics: [], skipped: `${reserved} is a reserved name, not in public DNS; DIGEST_DNS_SERVERS can name a server that has it` };
  }
  const where = await configLines(config);
  mailauth ??= await import('./mailauth.js');

  let dns: Dns;
  try {
    dns = new Dns(context.dnsServers, { timeoutMs: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
  } catch (error) {
    // setServers takes addresses only: `127.0.0.1`, `127.0.0.1:5353`, `[::1]:53`.
    const diagnostic: Diagnostic = {
      code: 'dns-servers',
      severity: 'error',
      message: `DIGEST_DNS_SERVERS (${context.dnsServers?.join(' ')}) must be IP addresses with an optional port, such as 127.0.0.1:5353 or [::1]:53 (${(error as Error).message})`,
      file: where.file,
    };
    return { check: 'dns', diagnostics: [diagnostic] };
  }
  const signal = context.signal;
  signal?.throwIfAborted();
  const cancel = () => dns.cancel();
  signal?.addEventListener('abort', cancel, { once: true });
  let found: [SpfFinding, SpfFinding | undefined, DkimFinding, DmarcFinding, MxFinding, MxFinding | undefined];
  try {
    found = await Promise.all([
      checkSpf(dns, envelopeDomain),
      envelopeDomain === fromDomain ? undefined : checkSpf(dns, fromDomain),
      checkDkim(dns, dkimSettings(fromDomain, env)),
      checkDmarc(dns, fromDomain),
      checkMx(dns, envelopeDomain),
      envelopeDomain === fromDomain ? undefined : checkMx(dns, fromDomain),
    ]);
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
  signal?.throwIfAborted();
  const [envelopeSpf, fromSpf, dkim, dmarc, envelopeMx, fromMx] = found;

  const report = new Report(where);
  const bounce = envelopeDomain !== fromDomain;
  report.note(`From ${fromAddress}; envelope sender ${bounce ? `${config.bounceAddress} (with +TAG)` : fromAddress}, so SPF is checked at ${envelopeDomain}`);

  // Nothing answered at all: one finding, not one per question.
  if (dns.answered === 0 && dns.failures.length > 0) {
    const codes = [...new Set(dns.failures.map((failure) => FAILURES[failure.code] ?? failure.code))].join(', ');
    report.add('dns-failure', 'warning', `every DNS lookup failed asking ${dns.describe()} (${codes}): nothing about ${fromDomain} could be checked`);
    if (dkim.state === 'unsigned' || dkim.state === 'config') reportDkim(report, dkim, fromDomain);
    return report.result();
  }

  // SPF, at the envelope sender's domain (the one receivers check) and at From's when it differs.
  reportSpf(report, envelopeSpf, { envelope: true, bounce, unsigned: dkim.state === 'unsigned' });
  if (fromSpf) reportSpf(report, fromSpf, { envelope: false, bounce, unsigned: dkim.state === 'unsigned' });

  reportDkim(report, dkim, fromDomain);

  // DMARC, and which of SPF and DKIM can carry it.
  if (dmarc.state === 'unknown') report.add('dns-failure', 'warning', `could not look up DMARC for ${fromDomain}: ${dmarc.reason}`);
  else reportDmarc(report, dmarc, { fromDomain, envelopeDomain, spf: envelopeSpf, dkim });

  reportMx(report, envelopeMx, { envelope: true, bounce, fromAddress });
  if (fromMx) reportMx(report, fromMx, { envelope: false, bounce, fromAddress });

  return report.result();
}

class Report {
  readonly diagnostics: Diagnostic[] = [];
  readonly notes: string[] = [];

  constructor(private readonly where: Where) {}

  /** `bounce`: about the bounce address's domain, so at bounceAddress:'s line rather than from:'s. */
  add(code: string, severity: Diagnostic['severity'], message: string, about: 'from' | 'bounce' = 'from'): void {
    if (this.diagnostics.some((diagnostic) => diagnostic.code === code && diagnostic.message === message)) return;
    const line = about === 'bounce' ? (this.where.bounceLine ?? this.where.fromLine) : this.where.fromLine;
    this.diagnostics.push({ code, severity, message, file: this.where.file, ...(line ? { line } : {}) });
  }

  note(text: string): void {
    this.notes.push(text);
  }

  result(): CheckResult {
    return { check: 'dns', diagnostics: this.diagnostics, notes: this.notes };
  }
}

function reportSpf(report: Report, spf: SpfFinding, role: { envelope: boolean; bounce: boolean; unsigned: boolean }): void {
  const { domain } = spf;
  const about = role.envelope && role.bounce ? 'bounce' : 'from';
  const whose = role.envelope ? (role.bounce ? `the bounce domain ${domain}, which SPF checks (the envelope sender's)` : domain) : `the From domain ${domain}`;
  // A broken record at the domain SPF checks fails every message's SPF; at From's alone it fails
  // nothing we send (the envelope is elsewhere), but still lets others pass for it.
  const broken = role.envelope ? 'error' : 'warning';
  switch (spf.state) {
    case 'unknown':
      report.add('dns-failure', 'warning', `could not check SPF of ${domain}: ${spf.reason}`, about);
      return;
    case 'missing':
      if (role.envelope) {
        report.add(
          'spf-missing',
          role.unsigned ? 'error' : 'warning',
          role.unsigned
            ? `no SPF record (TXT "v=spf1 …") at ${whose}, and no DKIM key configured (DIGEST_DKIM_PRIVATE_KEY): nothing authenticates the messages, which receivers treat as spam or refuse`
            : `no SPF record (TXT "v=spf1 …") at ${whose}: receivers get SPF "none"; only DKIM authenticates the messages`,
          about,
        );
      } else {
        report.add('spf-missing', 'warning', `no SPF record at ${whose}: the envelope sender is elsewhere, so our messages do not need it, but without one anyone may send as ${domain}; publish "v=spf1 -all" if nothing else sends for it`);
      }
      return;
    case 'multiple':
      report.add('spf-multiple', broken, `${whose} publishes more than one SPF record (${spf.reason}): receivers take that as a permanent error (RFC 7208 4.5), so SPF fails; merge them into one`, about);
      return;
    case 'invalid':
      report.add('spf-invalid', broken, `the SPF record of ${whose} cannot be evaluated${spf.reason ? ` (${spf.reason})` : ''}: receivers get a permanent error, so SPF fails. Record: ${spf.rr}`, about);
      return;
    case 'lookups':
      report.add(
        'spf-lookups',
        'warning',
        `the SPF record of ${whose} needs more than ${spf.lookups?.limit ?? 10} DNS lookups (include, a, mx, ptr, exists, redirect): receivers that count them stop with a permanent error, so SPF fails; flatten includes. Record: ${spf.rr}`,
        about,
      );
      return;
  }
  report.note(`SPF ${domain}: ${spf.rr}${spf.lookups ? ` (${spf.lookups.count} of ${spf.lookups.limit} DNS lookups)` : ''}`);
  if (spf.passesAnyone) {
    report.add('spf-permissive', 'warning', `the SPF record of ${whose} lets any server pass (+all, or a mechanism that matches every address): it authenticates nothing. Record: ${spf.rr}`, about);
  } else if (spf.neutral === 'explicit') {
    report.add('spf-permissive', 'warning', `the SPF record of ${whose} ends in ?all: servers it does not list get "neutral", which receivers do not hold against them; end it in ~all or -all. Record: ${spf.rr}`, about);
  } else if (spf.neutral === 'no-all') {
    report.add('spf-no-all', 'warning', `the SPF record of ${whose} has no all (nor redirect=): servers it does not list get "neutral", as with ?all; end it in ~all or -all. Record: ${spf.rr}`, about);
  }
}

function reportDkim(report: Report, dkim: DkimFinding, fromDomain: string): void {
  const name = dkim.name ?? '';
  switch (dkim.state) {
    case 'unsigned':
      report.add('dkim-unsigned', 'warning', `no DKIM key configured (DIGEST_DKIM_PRIVATE_KEY, DIGEST_DKIM_SELECTOR): messages that carry digest's own MIME go out unsigned, and DMARC can pass only by SPF (providers that sign with their own keys are not seen from here)`);
      return;
    case 'config':
      report.add(dkim.code ?? 'invalid-dkim', 'error', `DKIM is configured but unusable, and digest send refuses to start: ${dkim.reason}`);
      return;
    case 'unknown':
      report.add('dns-failure', 'warning', `could not check the DKIM key of ${fromDomain}: ${dkim.reason}`);
      return;
    case 'missing':
      report.add('dkim-missing', 'error', `no DKIM key record at ${name} (TXT "v=DKIM1; k=${dkim.ourType}; p=…"): every signature will fail to verify`);
      return;
    case 'revoked':
      report.add('dkim-revoked', 'error', `the DKIM key at ${name} is revoked (an empty p=): every signature made with selector ${dkim.settings?.keySelector} fails. Record: ${dkim.rr}`);
      return;
    case 'invalid':
      report.add('dkim-invalid', 'error', `the DKIM record at ${name} cannot be used (${dkim.reason}): every signature will fail to verify. Record: ${dkim.rr}`);
      return;
    case 'key-type':
      report.add(
        'dkim-key-type',
        'error',
        dkim.theirType
          ? `the DKIM key at ${name} is ${dkim.theirType} but DIGEST_DKIM_PRIVATE_KEY is ${dkim.ourType}: every signature will fail to verify`
          : `the DKIM record at ${name} does not hold a usable key (${dkim.reason}); DIGEST_DKIM_PRIVATE_KEY is ${dkim.ourType}. Record: ${dkim.rr}`,
      );
      return;
    case 'short':
      report.add('dkim-key-short', 'error', `the DKIM key at ${name} is shorter than ${MIN_RSA_BITS} bits, which verifiers refuse (RFC 8301): use a 2048-bit key`);
      return;
    case 'mismatch':
      report.add('dkim-key-mismatch', 'error', `the DKIM key published at ${name} is not the public half of DIGEST_DKIM_PRIVATE_KEY: every signature will fail to verify. Publish the key derived from it, or use the private key that goes with the record`);
      return;
  }
  report.note(`DKIM ${name}: the published ${dkim.ourType}${dkim.ourType === 'rsa' && dkim.bits ? ` ${dkim.bits}-bit` : ''} key matches DIGEST_DKIM_PRIVATE_KEY`);
}

function reportDmarc(report: Report, dmarc: DmarcFinding, facts: { fromDomain: string; envelopeDomain: string; spf: SpfFinding; dkim: DkimFinding }): void {
  const { fromDomain, envelopeDomain, spf, dkim } = facts;
  const mode = (strict: boolean | undefined) => (strict ? 'strict' : 'relaxed');
  if (dmarc.state === 'missing') {
    report.add('dmarc-missing', 'warning', `no DMARC record at _dmarc.${fromDomain} (nor at its organisational domain): receivers apply no policy, and Gmail and Yahoo expect one from bulk senders; publish at least "v=DMARC1; p=none"`);
  } else if (!dmarc.policy || !POLICIES.has(dmarc.policy)) {
    report.add('dmarc-invalid', 'warning', `the DMARC record at ${dmarc.at} has no valid p= (none, quarantine or reject): receivers may ignore it. Record: ${dmarc.rr}`);
  } else if (dmarc.policy === 'none') {
    report.add('dmarc-none', 'warning', `the DMARC policy for ${fromDomain} is ${dmarc.isOrgRecord && dmarc.sp ? 'sp' : 'p'}=none (at ${dmarc.at}): mail that fails DMARC is delivered all the same, so others can send as ${fromDomain}; move to quarantine or reject once reports show your mail aligned`);
  }

  // Which of SPF and DKIM can pass DMARC: each must pass and align with From (strict: the same name; relaxed: the same organisational domain).
  const strictSpf = dmarc.state === 'ok' && dmarc.strictSpf;
  const strictDkim = dmarc.state === 'ok' && dmarc.strictDkim;
  const spfWorks = spf.state === 'ok';
  const spfDomainAligns = aligns(fromDomain, envelopeDomain, Boolean(strictSpf));
  const dkimDomain = dkim.settings?.domainName;
  const dkimConfigured = Boolean(dkimDomain) && dkim.state !== 'unsigned' && dkim.state !== 'config';
  const dkimWorks = dkim.state === 'ok';
  const dkimDomainAligns = dkimDomain ? aligns(fromDomain, dkimDomain, Boolean(strictDkim)) : false;
  const byDkim = dkimWorks && dkimDomainAligns;
  const bySpf = spfWorks && spfDomainAligns;

  const spfSays = !spfWorks
    ? spf.state === 'unknown'
      ? `SPF at ${envelopeDomain} could not be checked`
      : `SPF at ${envelopeDomain} does not pass (${SPF_FAULTS[spf.state]})`
    : spfDomainAligns
      ? `SPF (${envelopeDomain}, ${mode(strictSpf)})`
      : `SPF's domain ${envelopeDomain} does not align with ${fromDomain} (${mode(strictSpf)})`;
  const dkimSays = !dkimConfigured
    ? 'DKIM is not configured'
    : !dkimWorks
      ? `DKIM at ${dkim.name} does not verify (${DKIM_FAULTS[dkim.state]})`
      : dkimDomainAligns
        ? `DKIM (d=${dkimDomain}, ${mode(strictDkim)})`
        : `DKIM's d=${dkimDomain} does not align with ${fromDomain} (${mode(strictDkim)})`;
  const policy =
    dmarc.state !== 'ok'
      ? 'DMARC (none published)'
      : dmarc.policy && POLICIES.has(dmarc.policy)
        ? `DMARC ${dmarc.isOrgRecord && dmarc.sp ? 'sp' : 'p'}=${dmarc.policy}${dmarc.pct !== undefined && dmarc.pct < 100 ? ` pct=${dmarc.pct}` : ''} at ${dmarc.at}`
        : `DMARC at ${dmarc.at} (no valid p=)`;
  if (dmarc.state === 'ok') report.note(`DMARC ${dmarc.at}: ${dmarc.rr}`);

  if (byDkim || bySpf) {
    report.note(`${policy}: aligned by ${[byDkim ? dkimSays : '', bySpf ? spfSays : ''].filter(Boolean).join(' and by ')}`);
    if (dkimConfigured && !dkimDomainAligns) report.add('dkim-unaligned', 'warning', `DKIM signs with d=${dkimDomain}, which does not align with From's ${fromDomain} under ${mode(strictDkim)} alignment: the signature does not count for DMARC; sign with DIGEST_DKIM_DOMAIN=${fromDomain}`);
    if (spfWorks && !spfDomainAligns) report.add('spf-unaligned', 'warning', `the envelope sender's domain ${envelopeDomain} does not align with From's ${fromDomain} under ${mode(strictSpf)} alignment: SPF does not count for DMARC, which passes by DKIM alone (forwarding that breaks the signature then fails it)`, 'bounce');
    return;
  }
  // Neither: unless a lookup failed (said already), nothing passes DMARC.
  if (spf.state === 'unknown' || dkim.state === 'unknown') return;
  const enforced = dmarc.state === 'ok' && (dmarc.policy === 'quarantine' || dmarc.policy === 'reject');
  report.add(
    'dmarc-unaligned',
    enforced ? 'error' : 'warning',
    `nothing passes DMARC for ${fromDomain}: ${spfSays}; ${dkimSays}. ${enforced ? `With ${policy} receivers will ${dmarc.policy === 'reject' ? 'refuse' : 'quarantine'} the messages` : `${dmarc.state === 'ok' ? `With ${policy}` : 'With no DMARC record'} nothing is enforced yet, but Gmail and Yahoo expect bulk mail to align`}`,
    spfWorks && !spfDomainAligns ? 'bounce' : 'from',
  );
}

function reportMx(report: Report, mx: MxFinding, role: { envelope: boolean; bounce: boolean; fromAddress: string }): void {
  const { domain } = mx;
  const about = role.envelope && role.bounce ? 'bounce' : 'from';
  // Bounces come back to the envelope sender's domain, replies to From's (the same when there is no bounceAddress).
  const what = role.envelope ? (role.bounce ? 'bounces' : `bounces and replies to ${role.fromAddress}`) : `replies to ${role.fromAddress}`;
  switch (mx.state) {
    case 'unknown':
      report.add('dns-failure', 'warning', `could not look up where mail for ${domain} goes: ${mx.reason}`, about);
      return;
    case 'null':
      // RFC 7505 3: a domain that says it takes no mail; receivers should refuse an envelope sender there (5.7.27).
      if (role.envelope) {
        report.add('mx-null', 'error', `${domain} publishes a null MX ("0 ."): it takes no mail, so ${what} cannot arrive, and receivers may refuse messages whose envelope sender is there (RFC 7505)`, about);
      } else {
        report.add('mx-null', 'warning', `${domain} publishes a null MX ("0 ."): ${what} cannot arrive (bounces go to the bounce address's domain)`, about);
      }
      return;
    case 'missing':
      if (mx.address) {
        report.add('mx-missing', 'warning', `${domain} has no MX record: ${what} fall back to its A/AAAA address (implicit MX), which many setups do not serve mail on; publish an MX`, about);
      } else if (role.envelope) {
        report.add('mx-missing', 'error', `${domain} has no MX record and no address: ${what} cannot be delivered, and receivers that check the envelope sender's domain refuse the messages`, about);
      } else {
        report.add('mx-missing', 'warning', `${domain} has no MX record and no address: ${what} cannot be delivered`, about);
      }
      return;
  }
  report.note(`MX ${domain}: ${(mx.records ?? []).map((record) => `${record.priority} ${record.exchange}`).join(', ')}`);
}
