import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempProject } from '../helpers.js';
import { dnsmasqAvailable, dnsmasqForSuite, Zones } from '../preflight/dnsmasq.js';
import { sinkForSuite } from '../smtp-sink.js';

const ours = generateKeyPairSync('rsa', { modulusLength: 1024 });
const other = generateKeyPairSync('rsa', { modulusLength: 1024 });
const record = (key: typeof ours.publicKey) => `v=DKIM1; k=rsa; p=${key.export({ type: 'spki', format: 'der' }).toString('base64')}`;
const privatePem = ours.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

// good.test publishes our key; wrongkey.test a key that is not ours; nospf.test nothing at all.
const zones = new Zones()
  .txt('good.test', 'v=spf1 ip4:198.51.100.7 -all')
  .txt('_dmarc.good.test', 'v=DMARC1; p=reject')
  .txt('s1._domainkey.good.test', record(ours.publicKey))
  .mx('good.test', 'mx.good.test', 10)
  .address('mx.good.test', '198.51.100.8')
  .txt('wrongkey.test', 'v=spf1 ip4:198.51.100.7 -all')
  .txt('_dmarc.wrongkey.test', 'v=DMARC1; p=reject')
  .txt('s1._domainkey.wrongkey.test', record(other.publicKey))
  .mx('wrongkey.test', 'mx.wrongkey.test', 10)
  .address('mx.wrongkey.test', '198.51.100.9')
  .txt('lax.test', 'v=spf1 ip4:198.51.100.7 -all')
  .txt('_dmarc.lax.test', 'v=DMARC1; p=none')
  .txt('s1._domainkey.lax.test', record(ours.publicKey))
  .mx('lax.test', 'mx.lax.test', 10)
  .address('mx.lax.test', '198.51.100.10');

const issue = '---\ntitle: The week\ndate: 2024-03-08\npreheader: What happened.\n---\nHello, {{subscriber.first_name}}.\n';
const readers = 'email,name\nada@readers.example,Ada\nbo@readers.example,Bo\n';

/**
 * `digest send` runs the preflight's cheap checks (the sending domain in DNS) before a real send:
 * against a real DNS server (dnsmasq on loopback) and a real SMTP server, an error stops the send
 * before anything is recorded or sent; --skip-preflight sends anyway; a good domain sends.
 */
describe.runIf(dnsmasqAvailable())('the preflight before a send', () => {
  const dns = dnsmasqForSuite(zones, { authoritative: 'test' });
  const sink = sinkForSuite();

  const project = (domain: string) =>
    tempProject({ 'issues/week.md': issue, 'readers.csv': readers }, `name: The Test Gazette\nfrom: "Test Gazette <news@${domain}>"\naddress: "1 Press Lane, Testville"\nunsubscribeUrl: https://news.example/u\n`);
  const send = (root: string, ...extra: string[]) =>
    runCli(['send', 'issues/week.md', '--to', 'readers.csv', '--smtp', `smtp://127.0.0.1:${sink().port}`, '--yes', ...extra], {
      cwd: root,
      env: { DIGEST_SECRET: 'a secret of thirty-two characters or more, for tests', DIGEST_DNS_SERVERS: dns().server, DIGEST_DKIM_PRIVATE_KEY: privatePem, DIGEST_DKIM_SELECTOR: 's1' },
    });

  it('refuses when the DKIM key in DNS is not ours: one line naming the config, exit 1, nothing sent or recorded', async () => {
    const root = project('wrongkey.test');
    const before = sink().received.length;
    const result = await send(root);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^digest: digest\.config\.yaml:\d+: preflight: dkim-key-mismatch: .*--skip-preflight sends anyway\n$/);
    expect(sink().received.length).toBe(before);
    // The journal lives in the database, which this send never got as far as creating.
    expect(existsSync(join(root, 'digest.db'))).toBe(false);
  });

  it('sends anyway with --skip-preflight', async () => {
    const root = project('wrongkey.test');
    const before = sink().received.length;
    const result = await send(root, '--skip-preflight');
    expect(result.stderr).not.toContain('preflight');
    expect(result.code).toBe(0);
    expect(sink().received.length - before).toBe(2);
  });

  it('sends from a domain whose records are right', async () => {
    const root = project('good.test');
    const before = sink().received.length;
    const result = await send(root);
    expect(result.code).toBe(0);
    expect(sink().received.length - before).toBe(2);
  });

  it('says a warning and sends: DMARC at p=none is weak, not wrong', async () => {
    const root = project('lax.test');
    const before = sink().received.length;
    const result = await send(root);
    expect(result.stderr).toContain('preflight: dmarc-none:');
    expect(result.code).toBe(0);
    expect(sink().received.length - before).toBe(2);
  });
});
