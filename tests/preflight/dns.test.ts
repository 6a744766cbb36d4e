/**
 * The sending-domain check (src/preflight/dns.ts) against a real DNS server on loopback (dnsmasq,
 * tests/preflight/dnsmasq.ts) serving a good domain and broken ones, each under .test. DKIM keys are
 * made here: the published one is either the public half of the key the check is given, or not.
 * The last part holds mailauth to the shape of the internal modules the check uses.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig, type ResolvedConfig } from '../../src/config.js';
import type { CheckResult, PreflightContext } from '../../src/preflight/check.js';
import { createDnsCheck, dnsCheck } from '../../src/preflight/dns.js';
import { checkEntry } from '../../src/preflight/index.js';
import { MAILAUTH_VERSION, getAlignment, getDmarcRecord, getPublicKey, parseDkimHeaders, spf } from '../../src/preflight/mailauth.js';
import { repo, tempProject } from '../helpers.js';
import { dnsmasqAvailable, dnsmasqForSuite, freeUdpPort, Zones } from './dnsmasq.js';

// ---------------------------------------------------------------------------------------------
// Keys and records

const ours = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const edwards = generateKeyPairSync('ed25519');
const short = generateKeyPairSync('rsa', { modulusLength: 768 });
const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();

/** The TXT record of a DKIM key: SPKI in base64 for RSA, the bare 32 bytes for Ed25519 (RFC 8463). */
function dkimRecord(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  const type = key.asymmetricKeyType;
  const p = type === 'ed25519' ? der.subarray(der.length - 32) : der;
  return `v=DKIM1; k=${type}; p=${p.toString('base64')}`;
}

const SPF = 'v=spf1 ip4:198.51.100.7 mx -all';
const REJECT = 'v=DMARC1; p=reject; rua=mailto:dmarc@good.test';

/** A domain that does everything right, with its mail host. */
function complete(zones: Zones, domain: string, parts: { spf?: string | null; dmarc?: string | null; mx?: boolean; dkim?: KeyObject | null } = {}): Zones {
  if (parts.spf !== null) zones.txt(domain, parts.spf ?? SPF);
  if (parts.dmarc !== null) zones.txt(`_dmarc.${domain}`, parts.dmarc ?? REJECT);
  if (parts.mx !== false) zones.mx(domain, `mx.${domain}`, 10).address(`mx.${domain}`, '198.51.100.8');
  if (parts.dkim !== null) zones.txt(`s1._domainkey.${domain}`, dkimRecord(parts.dkim ?? ours.publicKey));
  return zones;
}

const zones = new Zones();
complete(zones, 'good.test')
  .txt('good.test', 'google-site-verification=not-an-spf-record')
  .txt('bounce.good.test', 'v=spf1 ip4:198.51.100.7 -all')
  .mx('bounce.good.test', 'mx.good.test', 10);
complete(zones, 'strict.test', { dmarc: 'v=DMARC1; p=reject; adkim=s; aspf=s' })
  .txt('bounce.strict.test', 'v=spf1 ip4:198.51.100.7 -all')
  .mx('bounce.strict.test', 'mx.strict.test', 10);
complete(zones, 'nospf.test', { spf: null });
complete(zones, 'twospf.test').txt('twospf.test', 'v=spf1 include:mail.provider.test ~all');
complete(zones, 'badspf.test', { spf: 'v=spf1 ip4:198.51.100.7 frobnicate:198.51.100.9 -all' });
complete(zones, 'plusall.test', { spf: 'v=spf1 +all' });
complete(zones, 'qall.test', { spf: 'v=spf1 ip4:198.51.100.7 ?all' });
complete(zones, 'noall.test', { spf: 'v=spf1 ip4:198.51.100.7' });
complete(zones, 'lookups.test', { spf: `v=spf1 ${Array.from({ length: 11 }, (_, i) => `include:i${i + 1}.lookups.test`).join(' ')} -all` });
for (let i = 1; i <= 11; i++) zones.txt(`i${i}.lookups.test`, `v=spf1 ip4:198.51.100.${i + 10} -all`);
complete(zones, 'mismatch.test', { dkim: other.publicKey });
complete(zones, 'revoked.test', { dkim: null }).txt('s1._domainkey.revoked.test', 'v=DKIM1; k=rsa; p=');
complete(zones, 'nokey.test', { dkim: null });
complete(zones, 'edkey.test', { dkim: edwards.publicKey });
complete(zones, 'shortkey.test', { dkim: short.publicKey });
complete(zones, 'nodmarc.test', { dmarc: null });
complete(zones, 'pnone.test', { dmarc: 'v=DMARC1; p=none; rua=mailto:dmarc@pnone.test' });
complete(zones, 'nop.test', { dmarc: 'v=DMARC1; rua=mailto:dmarc@nop.test' });
// A From on a subdomain: DMARC found at the organisational domain, whose sp= applies.
zones.txt('_dmarc.orgdmarc.test', 'v=DMARC1; p=reject; sp=none');
complete(zones, 'letters.orgdmarc.test', { dmarc: null, dkim: null });
// Bounces on another organisational domain.
complete(zones, 'unal.test');
complete(zones, 'elsewhere.test', { dmarc: null });
complete(zones, 'nomx.test', { mx: false });
complete(zones, 'aonly.test', { mx: false }).address('aonly.test', '198.51.100.20');
complete(zones, 'nullmx.test', { mx: false }).mx('nullmx.test', '.', 0);
complete(zones, 'noreply.test', { mx: false }).mx('noreply.test', '.', 0);
// SPF that includes a domain whose server fails; DMARC whose lookup times out.
complete(zones, 'partial.test', { spf: 'v=spf1 include:spf.broken.test -all' });
complete(zones, 'tmo.test', { dmarc: null });
// A long record, split over several strings as providers publish them.
complete(zones, 'split.test', { spf: null }).txtStrings('split.test', ['v=spf1 ip4:198.51.100.7 ', 'ip4:198.51.100.8 mx -all']);

// ---------------------------------------------------------------------------------------------
// Configs: one file per case, from: on line 2 and bounceAddress: on line 3

interface Case {
  from?: string;
  bounce?: string;
}

const cases: Record<string, Case> = {
  good: { from: 'news@good.test' },
  goodBounce: { from: 'news@good.test', bounce: 'bounces@bounce.good.test' },
  strict: { from: 'news@strict.test', bounce: 'bounces@bounce.strict.test' },
  nospf: { from: 'news@nospf.test' },
  twospf: { from: 'news@twospf.test' },
  badspf: { from: 'news@badspf.test' },
  plusall: { from: 'news@plusall.test' },
  qall: { from: 'news@qall.test' },
  noall: { from: 'news@noall.test' },
  lookups: { from: 'news@lookups.test' },
  mismatch: { from: 'news@mismatch.test' },
  revoked: { from: 'news@revoked.test' },
  nokey: { from: 'news@nokey.test' },
  edkey: { from: 'news@edkey.test' },
  shortkey: { from: 'news@shortkey.test' },
  nodmarc: { from: 'news@nodmarc.test' },
  pnone: { from: 'news@pnone.test' },
  nop: { from: 'news@nop.test' },
  orgdmarc: { from: 'news@letters.orgdmarc.test' },
  unaligned: { from: 'news@unal.test', bounce: 'bounces@elsewhere.test' },
  nomx: { from: 'news@nomx.test' },
  aonly: { from: 'news@aonly.test' },
  nullmx: { from: 'news@nullmx.test' },
  noreply: { from: 'news@noreply.test', bounce: 'bounces@elsewhere.test' },
  partial: { from: 'news@partial.test' },
  tmo: { from: 'news@tmo.test' },
  servfail: { from: 'news@news.broken.test' },
  split: { from: 'news@split.test' },
  nofrom: {},
};

const root = tempProject(
  Object.fromEntries(
    Object.entries(cases).map(([name, { from, bounce }]) => [
      `${name}.yaml`,
      `name: The DNS Gazette\n${from ? `from: "The DNS Gazette <${from}>"\n` : ''}${bounce ? `bounceAddress: ${bounce}\n` : ''}language: en\n`,
    ]),
  ),
  null,
);

function configOf(name: keyof typeof cases): Promise<ResolvedConfig> {
  return loadConfig({ cwd: root, path: `${name}.yaml` });
}

/** The DNS check reads the config, the DNS servers and the signal; the issue and its edition are the other checks'. */
function contextFor(config: ResolvedConfig, dnsServers: string[]): PreflightContext {
  return { config, dnsServers, offline: false, cacheDir: join(root, 'cache'), source: '', issue: undefined as never, edition: undefined as never };
}

const signing = (key: KeyObject = ours.privateKey, extra: Record<string, string> = {}) => ({ DIGEST_DKIM_PRIVATE_KEY: pem(key), DIGEST_DKIM_SELECTOR: 's1', ...extra });

/** "severity code" of every finding, sorted: the whole verdict in one comparable line each. */
const verdict = (result: CheckResult) => result.diagnostics.map((d) => `${d.severity} ${d.code}`).sort();
const find = (result: CheckResult, code: string) => result.diagnostics.find((d) => d.code === code);

describe.skipIf(!dnsmasqAvailable())('the sending domain in DNS, against dnsmasq', () => {
  const dnsmasq = dnsmasqForSuite(zones, { authoritative: 'test', failing: ['broken.test'], silent: ['_dmarc.tmo.test'] });

  async function run(name: keyof typeof cases, env: NodeJS.ProcessEnv = signing(), servers?: string[]): Promise<CheckResult> {
    const check = createDnsCheck({ env, timeoutMs: 500, tries: 1 });
    return check.run(contextFor(await configOf(name), servers ?? [dnsmasq().server]));
  }

  test('a domain with everything right: no findings, and the facts as notes', async () => {
    const result = await run('good');
    expect(result.diagnostics).toEqual([]);
    expect(result.skipped).toBeUndefined();
    expect(result.notes).toEqual([
      'From news@good.test; envelope sender news@good.test, so SPF is checked at good.test',
      'SPF good.test: v=spf1 ip4:198.51.100.7 mx -all (1 of 10 DNS lookups)',
      'DKIM s1._domainkey.good.test: the published rsa 2048-bit key matches DIGEST_DKIM_PRIVATE_KEY',
      `DMARC _dmarc.good.test: ${REJECT}`,
      'DMARC p=reject at _dmarc.good.test: aligned by DKIM (d=good.test, relaxed) and by SPF (good.test, relaxed)',
      'MX good.test: 10 mx.good.test',
    ]);
  });

  test('with a bounce address on a subdomain: SPF and MX are checked there too, and SPF aligns (relaxed)', async () => {
    const result = await run('goodBounce');
    expect(result.diagnostics).toEqual([]);
    expect(result.notes).toContain('SPF bounce.good.test: v=spf1 ip4:198.51.100.7 -all (0 of 10 DNS lookups)');
    expect(result.notes).toContain('SPF good.test: v=spf1 ip4:198.51.100.7 mx -all (1 of 10 DNS lookups)');
    expect(result.notes).toContain('MX bounce.good.test: 10 mx.good.test');
    expect(result.notes).toContain('DMARC p=reject at _dmarc.good.test: aligned by DKIM (d=good.test, relaxed) and by SPF (bounce.good.test, relaxed)');
  });

  test('strict alignment (aspf=s): a bounce subdomain no longer aligns; DKIM carries DMARC alone', async () => {
    const result = await run('strict');
    expect(verdict(result)).toEqual(['warning spf-unaligned']);
    // About the bounce domain: at the line of bounceAddress:.
    expect(find(result, 'spf-unaligned')).toMatchObject({ file: join(root, 'strict.yaml'), line: 3 });
    expect(find(result, 'spf-unaligned')!.message).toContain('bounce.strict.test does not align with From\'s strict.test under strict alignment');
    expect(result.notes).toContain('DMARC p=reject at _dmarc.strict.test: aligned by DKIM (d=strict.test, strict)');
  });

  test('no SPF: a warning while DKIM signs, an error when nothing authenticates the mail', async () => {
    const signed = await run('nospf');
    expect(verdict(signed)).toEqual(['warning spf-missing']);
    expect(find(signed, 'spf-missing')).toMatchObject({ file: join(root, 'nospf.yaml'), line: 2 });

    const unsigned = await run('nospf', {});
    expect(verdict(unsigned)).toEqual(['error dmarc-unaligned', 'error spf-missing', 'warning dkim-unsigned']);
    expect(find(unsigned, 'spf-missing')!.message).toContain('nothing authenticates the messages');
    expect(find(unsigned, 'dmarc-unaligned')!.message).toBe(
      'nothing passes DMARC for nospf.test: SPF at nospf.test does not pass (no record); DKIM is not configured. With DMARC p=reject at _dmarc.nospf.test receivers will refuse the messages',
    );
  });

  test('two SPF records, an unparseable one: errors, as receivers fail SPF on them', async () => {
    const two = await run('twospf');
    expect(verdict(two)).toEqual(['error spf-multiple']);
    const bad = await run('badspf');
    expect(verdict(bad)).toEqual(['error spf-invalid']);
    expect(find(bad, 'spf-invalid')!.message).toContain('(Unknown mechanism frobnicate)');
  });

  test('+all and ?all let anyone pass; a record without all is neutral for everyone else', async () => {
    expect(verdict(await run('plusall'))).toEqual(['warning spf-permissive']);
    const q = await run('qall');
    expect(verdict(q)).toEqual(['warning spf-permissive']);
    expect(find(q, 'spf-permissive')!.message).toContain('ends in ?all');
    expect(verdict(await run('noall'))).toEqual(['warning spf-no-all']);
  });

  test('more than 10 DNS lookups', async () => {
    const result = await run('lookups');
    expect(verdict(result)).toEqual(['warning spf-lookups']);
    expect(find(result, 'spf-lookups')!.message).toContain('more than 10 DNS lookups');
  });

  test('an SPF record split over several strings is read whole', async () => {
    const result = await run('split');
    expect(result.diagnostics).toEqual([]);
    expect(result.notes).toContain('SPF split.test: v=spf1 ip4:198.51.100.7 ip4:198.51.100.8 mx -all (1 of 10 DNS lookups)');
  });

  test('a DKIM record with a different key than ours is a mismatch, not a pass', async () => {
    const result = await run('mismatch');
    expect(verdict(result)).toEqual(['error dkim-key-mismatch']);
    expect(find(result, 'dkim-key-mismatch')!.message).toContain('s1._domainkey.mismatch.test is not the public half of DIGEST_DKIM_PRIVATE_KEY');
    expect(result.notes?.join('\n')).not.toContain('aligned by DKIM');
    // And the same record with the other key configured matches.
    expect(verdict(await run('mismatch', signing(other.privateKey)))).toEqual([]);
  });

  test('a revoked key, no key record, a key of another type, a key too short', async () => {
    expect(verdict(await run('revoked'))).toEqual(['error dkim-revoked']);
    expect(verdict(await run('nokey'))).toEqual(['error dkim-missing']);
    const edkey = await run('edkey');
    expect(verdict(edkey)).toEqual(['error dkim-key-type']);
    expect(find(edkey, 'dkim-key-type')!.message).toContain('is ed25519 but DIGEST_DKIM_PRIVATE_KEY is rsa');
    // digest's signer takes RSA only: an Ed25519 private key is refused as send refuses it, whatever is published.
    const ours25519 = await run('edkey', signing(edwards.privateKey));
    expect(verdict(ours25519)).toEqual(['error invalid-dkim']);
    expect(find(ours25519, 'invalid-dkim')!.message).toContain('the signer takes RSA only');
    expect(verdict(await run('shortkey', signing(short.privateKey)))).toEqual(['error dkim-key-short']);
  });

  test('DKIM settings that cannot be used, and no DKIM at all', async () => {
    const noSelector = await run('good', { DIGEST_DKIM_PRIVATE_KEY: pem(ours.privateKey) });
    expect(verdict(noSelector)).toEqual(['error invalid-dkim']);
    const notAKey = await run('good', signing(undefined, { DIGEST_DKIM_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----' }));
    expect(verdict(notAKey)).toEqual(['error invalid-dkim']);
    const unsigned = await run('good', {});
    expect(verdict(unsigned)).toEqual(['warning dkim-unsigned']);
    expect(unsigned.notes).toContain('DMARC p=reject at _dmarc.good.test: aligned by SPF (good.test, relaxed)');
  });

  test('DKIM signing for another organisational domain does not align', async () => {
    const result = await run('good', signing(undefined, { DIGEST_DKIM_DOMAIN: 'elsewhere.test' }));
    expect(verdict(result)).toEqual(['warning dkim-unaligned']);
    expect(find(result, 'dkim-unaligned')!.message).toContain('d=elsewhere.test, which does not align with From\'s good.test');
  });

  test('no DMARC, p=none, no p= at all, and a subdomain under its organisational domain\'s sp=none', async () => {
    const nodmarc = await run('nodmarc');
    expect(verdict(nodmarc)).toEqual(['warning dmarc-missing']);
    expect(nodmarc.notes).toContain('DMARC (none published): aligned by DKIM (d=nodmarc.test, relaxed) and by SPF (nodmarc.test, relaxed)');
    expect(verdict(await run('pnone'))).toEqual(['warning dmarc-none']);
    const nop = await run('nop');
    expect(verdict(nop)).toEqual(['warning dmarc-invalid']);
    expect(nop.notes).toContain('DMARC at _dmarc.nop.test (no valid p=): aligned by DKIM (d=nop.test, relaxed) and by SPF (nop.test, relaxed)');
    const org = await run('orgdmarc', {});
    expect(verdict(org)).toEqual(['warning dkim-unsigned', 'warning dmarc-none']);
    expect(find(org, 'dmarc-none')!.message).toContain('sp=none (at _dmarc.orgdmarc.test)');
    expect(org.notes).toContain('DMARC sp=none at _dmarc.orgdmarc.test: aligned by SPF (letters.orgdmarc.test, relaxed)');
  });

  test('a bounce domain that does not align: DMARC fails without DKIM (an error under p=reject), passes with it', async () => {
    const unsigned = await run('unaligned', {});
    expect(verdict(unsigned)).toEqual(['error dmarc-unaligned', 'warning dkim-unsigned']);
    expect(find(unsigned, 'dmarc-unaligned')).toMatchObject({ file: join(root, 'unaligned.yaml'), line: 3 });
    expect(find(unsigned, 'dmarc-unaligned')!.message).toContain("SPF's domain elsewhere.test does not align with unal.test (relaxed); DKIM is not configured");
    const signed = await run('unaligned');
    expect(verdict(signed)).toEqual(['warning spf-unaligned']);
  });

  test('MX: none at all, only an address, a null MX where bounces go, a null MX on From alone', async () => {
    const nomx = await run('nomx');
    expect(verdict(nomx)).toEqual(['error mx-missing']);
    expect(find(nomx, 'mx-missing')!.message).toContain('no MX record and no address');
    expect(verdict(await run('aonly'))).toEqual(['warning mx-missing']);
    expect(verdict(await run('nullmx'))).toEqual(['error mx-null']);
    // Bounces go elsewhere: a From domain that takes no mail is a no-reply domain, said but not refused.
    const noreply = await run('noreply');
    expect(verdict(noreply)).toEqual(['warning mx-null', 'warning spf-unaligned']);
    expect(find(noreply, 'mx-null')).toMatchObject({ line: 2 });
  });

  test('a failing server is a DNS failure, never a missing record', async () => {
    // Every lookup fails: one finding.
    const all = await run('servfail');
    expect(verdict(all)).toEqual(['warning dns-failure']);
    expect(find(all, 'dns-failure')!.message).toMatch(/^every DNS lookup failed asking 127\.0\.0\.1:\d+ \(SERVFAIL \(the server could not get an answer\)\): nothing about news\.broken\.test could be checked$/);
    // SPF includes a domain whose server fails: SPF is not judged, the rest is.
    const partial = await run('partial');
    expect(verdict(partial)).toEqual(['warning dns-failure']);
    expect(find(partial, 'dns-failure')!.message).toBe('could not check SPF of partial.test: TXT spf.broken.test: SERVFAIL (the server could not get an answer)');
  });

  test('a lookup that times out is a DNS failure, said as such', async () => {
    const started = Date.now();
    const result = await run('tmo');
    expect(verdict(result)).toEqual(['warning dns-failure']);
    expect(find(result, 'dns-failure')!.message).toBe('could not look up DMARC for tmo.test: TXT _dmarc.tmo.test: timed out');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('no server listening: one DNS failure, quickly', async () => {
    const port = await freeUdpPort();
    const started = Date.now();
    const result = await run('good', signing(), [`127.0.0.1:${port}`]);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(verdict(result)).toEqual(['warning dns-failure']);
    expect(find(result, 'dns-failure')!.message).toMatch(/^every DNS lookup failed asking 127\.0\.0\.1:\d+ \((connection refused \(no DNS server listening there\)|timed out)\): nothing about good\.test could be checked$/);
  });

  test('DNS servers that are not addresses: an error that says what DIGEST_DNS_SERVERS takes', async () => {
    const result = await run('good', signing(), ['dns.example:53']);
    expect(verdict(result)).toEqual(['error dns-servers']);
    expect(find(result, 'dns-servers')!.message).toContain('must be IP addresses with an optional port, such as 127.0.0.1:5353');
  });

  test('no from: skipped with the reason', async () => {
    const result = await run('nofrom');
    expect(result).toEqual({ check: 'dns', diagnostics: [], skipped: 'no from: address in the config (or DIGEST_FROM), so no sending domain to look up' });
  });

  test('a reserved domain (.test, .example…) asked of the system resolver: skipped, saying how to check it', async () => {
    const check = createDnsCheck({ env: signing(), timeoutMs: 500, tries: 1 });
    const result = await check.run({ ...contextFor(await configOf('good'), []), dnsServers: undefined });
    expect(result).toEqual({
      check: 'dns',
      diagnostics: [],
      skipped: 'good.test is a reserved name, not in public DNS; DIGEST_DNS_SERVERS can name a server that has it',
    });
  });

  test('an aborted run stops', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped by the test'));
    const check = createDnsCheck({ env: signing() });
    await expect(check.run({ ...contextFor(await configOf('good'), [dnsmasq().server]), signal: controller.signal })).rejects.toThrow('stopped by the test');
  });

  test('the exported check is the network, cheap "dns" check', () => {
    expect(dnsCheck).toMatchObject({ id: 'dns' });
    expect(checkEntry('dns')).toEqual({ id: 'dns', network: true, cheap: true });
  });
});

// ---------------------------------------------------------------------------------------------
// mailauth's internal modules: the check depends on their paths and shapes, so they are held here

describe('mailauth, as the DNS check uses it', () => {
  const require = createRequire(import.meta.url);
  const fakeDns = (records: Record<string, string[][]>) => async (name: string, type: string) => {
    const answer = records[`${type} ${name}`];
    if (answer) return answer;
    throw Object.assign(new Error(`no ${type} ${name}`), { code: 'ENOTFOUND' });
  };

  test('is installed at the exact version package.json pins, which is the one its internal paths were read from', () => {
    const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(manifest.dependencies.mailauth).toBe(MAILAUTH_VERSION);
    expect((require('mailauth/package.json') as { version: string }).version).toBe(MAILAUTH_VERSION);
    for (const path of ['mailauth/lib/tools.js', 'mailauth/lib/dmarc/get-dmarc-record.js', 'mailauth/lib/parse-dkim-headers.js', 'mailauth/lib/spf/index.js']) {
      expect(() => require.resolve(path)).not.toThrow();
    }
  });

  test('getPublicKey: the key of a record, and its error codes', async () => {
    const record = dkimRecord(ours.publicKey);
    const name = 's1._domainkey.x.test';
    const found = await getPublicKey('DKIM', name, 1024, fakeDns({ [`TXT ${name}`]: [record.match(/.{1,255}/g)!] }));
    expect(found.rr).toBe(record.replace(/\s+/g, ''));
    expect(typeof found.publicKey).toBe('string');
    expect(found.modulusLength).toBe(2048);
    await expect(getPublicKey('DKIM', name, 1024, fakeDns({ [`TXT ${name}`]: [['v=DKIM1; k=rsa; p=']] }))).rejects.toMatchObject({ code: 'EINVALIDVAL', rr: 'v=DKIM1;k=rsa;p=' });
    await expect(getPublicKey('DKIM', name, 1024, fakeDns({ [`TXT ${name}`]: [[dkimRecord(short.publicKey)]] }))).rejects.toMatchObject({ code: 'ESHORTKEY' });
    await expect(getPublicKey('DKIM', name, 1024, fakeDns({}))).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(parseDkimHeaders('DNS: TXT;v=DKIM1;k=rsa;p=').parsed?.p).toEqual({ value: '' });
  });

  test('getAlignment with strict false: organisational domains', () => {
    expect(getAlignment('news.good.test', ['bounce.good.test'], false)).toEqual({ domain: 'bounce.good.test' });
    expect(getAlignment('good.test', ['elsewhere.test'], false)).toBe(false);
  });

  test('getDmarcRecord: the tags, falling back to the organisational domain', async () => {
    const found = await getDmarcRecord('letters.org.test', fakeDns({ 'TXT _dmarc.org.test': [['v=DMARC1; p=reject; sp=none; adkim=s']] }));
    expect(found).toEqual({ v: 'DMARC1', p: 'reject', sp: 'none', adkim: 's', rr: 'v=DMARC1; p=reject; sp=none; adkim=s', isOrgRecord: true });
    expect(await getDmarcRecord('none.test', fakeDns({}))).toBe(false);
    await expect(getDmarcRecord('x.test', async () => Promise.reject(Object.assign(new Error('queryTxt ESERVFAIL'), { code: 'ESERVFAIL' })))).rejects.toMatchObject({ code: 'ESERVFAIL' });
  });

  test('spf: the result, the lookups, and the comment the reason is read from', async () => {
    const resolver = fakeDns({ 'TXT x.test': [['v=spf1 bogus -all']] }) as never;
    const result = await spf({ sender: 'postmaster@x.test', ip: '192.0.2.1', helo: 'h.invalid', mta: 'digest', resolver });
    expect(result.status.result).toBe('permerror');
    expect(result.status.comment).toBe('digest: permanent error in processing during lookup of postmaster@x.test: Unknown mechanism bogus');
    const fine = await spf({ sender: 'postmaster@y.test', ip: '192.0.2.1', helo: 'h.invalid', mta: 'digest', resolver: fakeDns({ 'TXT y.test': [['v=spf1 include:z.test -all']], 'TXT z.test': [['v=spf1 -all']] }) as never });
    expect(fine.status.result).toBe('fail');
    expect(fine.lookups).toMatchObject({ count: 1, limit: 10 });
  });
});
