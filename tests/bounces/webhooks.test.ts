/**
 * Providers' bounce and complaint webhooks in a real `digest serve` (tests/serve/helpers.ts), over a
 * list that was sent a real issue through the SMTP sink, so that the Message-IDs the providers
 * echo are the ones digest wrote. Each provider's requests are built and signed as its
 * documentation says (tests/providers/webhooks/), with its real verification on the server side:
 * a hard bounce makes its reader bounced and a complaint complained, once however often it is
 * posted; a forged, altered or stale request is refused with 401 and stores nothing; an event
 * about an address not on the list, or a delivery or an open, changes nothing. On SQLite and
 * PostgreSQL.
 */
import { createPublicKey } from 'node:crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import { openStore } from '../../src/audience/open.js';
import { PROVIDERS, webhooksFrom, type Provider } from '../../src/bounces/webhooks/index.js';
import { sendgridSigned } from '../../src/bounces/webhooks/sendgrid.js';
import { svixKey, svixSigned } from '../../src/bounces/webhooks/resend.js';
import { loadConfig } from '../../src/config.js';
import { isUserError } from '../../src/errors.js';
import { onEachDatabase, tempDir } from '../audience/databases.js';
import { fixture, runCli, tempProject } from '../helpers.js';
import { serve, type Served } from '../serve/helpers.js';
import { sinkForSuite } from '../smtp-sink.js';
import { MAILGUN_KEY, jsonHeaders, mailgunComplained, mailgunDelivered, mailgunFailed, mailgunSigned } from '../providers/webhooks/mailgun.js';
import { POSTMARK_PASSWORD, POSTMARK_USER, basicAuth, postmarkBounce, postmarkComplaint, postmarkDelivery } from '../providers/webhooks/postmark.js';
import { RESEND_SECRET, resendBounced, resendComplained, resendDelivered, svixHeaders } from '../providers/webhooks/resend.js';
import { SENDGRID_PUBLIC_KEY, otherKey, sendgridBounce, sendgridDropped, sendgridHeaders, sendgridOpen, sendgridSpamReport } from '../providers/webhooks/sendgrid.js';
import { CERT_URL, REGION, TOPIC, sesBounce, sesComplaint, sesDelivery, snsHeaders, startSns } from '../providers/webhooks/sns.js';

const SECRET = 'a test secret of at least thirty-two characters';
const CONFIG = `name: The Test Gazette
from: "Test Gazette <news@gazette.example>"
address: "1 Press Lane, Testville"
baseUrl: https://gazette.example/news
webhooks:
  ses:
    topics: [${TOPIC}]
`;
const ENV = {
  DIGEST_WEBHOOK_POSTMARK_USER: POSTMARK_USER,
  DIGEST_WEBHOOK_POSTMARK_PASSWORD: POSTMARK_PASSWORD,
  MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY,
  SENDGRID_WEBHOOK_PUBLIC_KEY: SENDGRID_PUBLIC_KEY,
  RESEND_WEBHOOK_SECRET: RESEND_SECRET,
};
const STALE = Math.floor(Date.now() / 1000) - 10 * 60;

/** Each provider's readers: one to go dead, one to complain, one whose mailbox is full, one untouched. */
const readers = (provider: Provider) => ({ dead: `dead.${provider}@example.org`, angry: `angry.${provider}@example.org`, full: `full.${provider}@example.org`, fine: `fine.${provider}@example.org` });

type Sns = Awaited<ReturnType<typeof startSns>>;

onEachDatabase((target) => {
  describe('provider webhooks in digest serve', () => {
    const sink = sinkForSuite();
    const project = tempProject({ 'issues/week.md': fixture('issues', 'complete.md') }, CONFIG);
    let db: string;
    /** The Message-ID of the issue each reader was sent. */
    const messageIds = new Map<string, string>();
    let sns: Sns;

    beforeAll(async () => {
      db = await target.fresh();
      const store = await openStore(db, { create: true });
      try {
        const everyone = PROVIDERS.flatMap((provider) => Object.values(readers(provider)));
        await store.upsert(
          everyone.map((email) => ({ email, international: false, status: 'subscribed' as const })),
          { source: 'test', tags: ['local'] },
        );
      } finally {
        await store.close();
      }
      const send = await runCli(['send', 'issues/week.md', '--db', db, '--smtp', sink().url, '--yes', '--json'], { cwd: project, env: { DIGEST_SECRET: SECRET } });
      expect(send.code, send.stderr).toBe(0);
      for (const message of sink().received) messageIds.set(message.recipient, message.parsed.messageId!);
      sns = await startSns();
    });

    async function start(): Promise<
      Served & {
        post(provider: string, body: string, headers: Record<string, string>): Promise<Response>;
        events(provider: Provider): Promise<Record<string, unknown>[]>;
        status(email: string): Promise<string | undefined>;
        /** Why each refused request was refused, as the log says (its first words). */
        refusals(): string[];
      }
    > {
      const served = await serve(db, { config: CONFIG, webhooks: (config) => webhooksFrom(config, ENV, { fetch: sns.fetch }) });
      return Object.assign(served, {
        post: (provider: string, body: string, headers: Record<string, string>) => fetch(`${served.url}/webhooks/${provider}`, { method: 'POST', headers, body }),
        events: (provider: Provider) =>
          served.store.dialect.db.selectFrom('bounce_events').select(['source', 'source_id', 'email', 'issue', 'kind', 'status', 'action']).where('source', '=', `webhook:${provider}`).orderBy('received_at').orderBy('email').execute(),
        status: async (email: string) => (await served.store.get(email))?.status,
        refusals: () => served.logs.filter((entry) => entry.msg === 'webhook refused').map((entry) => String(entry.reason).split(/ \(|:/)[0]!),
      });
    }

    test('Amazon SES through SNS: the subscription confirmed, both signature versions verified against the certificate fetched from SNS, a bounce and a complaint applied once; forged, altered, stale, foreign-topic and foreign-certificate messages refused', async () => {
      const server = await start();
      const who = readers('ses');

      // SNS confirms the subscription first; digest visits the SubscribeURL, on SNS's host only.
      const confirmation = await server.post('ses', sns.confirmation(), snsHeaders('SubscriptionConfirmation'));
      expect(confirmation.status).toBe(200);
      expect(sns.fetched).toContain(CERT_URL);
      expect(sns.fetched.some((url) => url.startsWith(`https://sns.${REGION}.amazonaws.com/?Action=ConfirmSubscription`))).toBe(true);
      const evil = await server.post('ses', sns.confirmation({ subscribeUrl: 'https://attacker.example/?Action=ConfirmSubscription' }), snsHeaders('SubscriptionConfirmation'));
      expect(evil.status).toBe(400);
      expect(sns.fetched.some((url) => url.includes('attacker.example'))).toBe(false);

      const hard = sns.notification(sesBounce({ email: who.dead, messageId: messageIds.get(who.dead) }), { version: '1' });
      expect((await server.post('ses', hard, snsHeaders())).status).toBe(200);
      expect(await server.status(who.dead)).toBe('bounced');
      expect(await server.events('ses')).toEqual([expect.objectContaining({ email: who.dead, issue: 'week', kind: 'hard', status: '5.1.1', action: 'bounced' })]);
      // SNS retries with the same message: nothing more happens.
      expect((await server.post('ses', hard, snsHeaders())).status).toBe(200);
      expect(await server.events('ses')).toHaveLength(1);

      const complaint = sns.notification(sesComplaint({ email: who.angry, messageId: messageIds.get(who.angry) }), { version: '2', subject: 'Amazon SES Email Event Notification' });
      expect((await server.post('ses', complaint, { ...snsHeaders(), 'content-type': 'application/json' })).status).toBe(200);
      expect(await server.status(who.angry)).toBe('complained');

      // A full mailbox counts; the reader stays.
      const full = sns.notification(sesBounce({ email: who.full, type: 'Transient', subType: 'MailboxFull', status: '4.2.2', diagnostic: 'smtp; 452 4.2.2 Mailbox full' }), { version: '2' });
      expect((await server.post('ses', full, snsHeaders())).status).toBe(200);
      expect(await server.status(who.full)).toBe('subscribed');

      // A retry SNS makes half an hour on carries the first Timestamp, and is still taken.
      const late = sns.notification(sesDelivery(who.fine), { timestamp: new Date(Date.now() - 30 * 60_000) });
      expect((await server.post('ses', late, snsHeaders())).status).toBe(200);
      // Not on the list.
      expect((await server.post('ses', sns.notification(sesBounce({ email: 'stranger@example.org' })), snsHeaders())).status).toBe(200);
      const kept = await server.events('ses');
      expect(kept.map((row) => [row.email, row.action])).toEqual([
        [who.dead, 'bounced'],
        [who.angry, 'complained'],
        [who.full, 'counted'],
      ]);

      const refused = async (body: string, status = 401) => expect((await server.post('ses', body, snsHeaders())).status).toBe(status);
      // Altered after signing: the fine reader "bounces" in the message, not in what SNS signed.
      const altered = JSON.parse(sns.notification(sesBounce({ email: who.dead }), { version: '2' }));
      altered.Message = JSON.stringify(sesBounce({ email: who.fine }));
      await refused(JSON.stringify(altered));
      // A signature that is not SNS's.
      const forged = JSON.parse(sns.notification(sesBounce({ email: who.fine })));
      forged.Signature = Buffer.from(forged.Signature, 'base64').reverse().toString('base64');
      await refused(JSON.stringify(forged));
      // Stamped two hours ago: beyond any retry SNS makes.
      await refused(sns.notification(sesBounce({ email: who.fine }), { timestamp: new Date(Date.now() - 2 * 3600_000) }));
      // Raw message delivery: SES's JSON alone, unsigned.
      await refused(JSON.stringify(sesBounce({ email: who.fine })));
      // Signed by SNS, but for a topic of someone else's: refused before any certificate is fetched.
      const before = sns.fetched.length;
      await refused(sns.notification(sesBounce({ email: who.fine }), { topic: 'arn:aws:sns:eu-west-1:999999999999:not-ours' }), 403);
      // A certificate anywhere but on SNS's own hosts is never fetched.
      for (const certUrl of ['https://sns.eu-west-1.amazonaws.com.attacker.example/cert.pem', 'http://sns.eu-west-1.amazonaws.com/cert.pem', 'https://attacker.example/sns.eu-west-1.amazonaws.com.pem']) {
        await refused(sns.notification(sesBounce({ email: who.fine }), { certUrl }));
      }
      expect(sns.fetched.length).toBe(before);
      expect(await server.status(who.fine)).toBe('subscribed');
      expect(await server.events('ses')).toHaveLength(3);
      expect(server.refusals()).toEqual([
        'SubscribeURL is not an https URL on an SNS host',
        'the signature does not match',
        'the signature does not match',
        'the message is stale',
        'not a signed SNS message',
        'the message comes from an SNS topic that is not listed in webhooks.ses.topics',
        ...Array(3).fill('SigningCertURL is not an https .pem URL on an SNS host'),
      ]);
    });

    test('Postmark: basic auth from the webhook URL required; a hard bounce (its 64-bit ID kept exactly) and a spam complaint applied once; a block kept as the sender’s; deliveries and strangers change nothing', async () => {
      const server = await start();
      const who = readers('postmark');
      const hard = postmarkBounce({ email: who.dead, id: 4323372036854775807n });

      expect((await server.post('postmark', hard, { 'content-type': 'application/json' })).status).toBe(401);
      expect((await server.post('postmark', hard, basicAuth(POSTMARK_USER, 'the-wrong-password-of-some-length'))).status).toBe(401);
      expect((await server.post('postmark', hard, basicAuth('someone', POSTMARK_PASSWORD))).status).toBe(401);
      expect(await server.events('postmark')).toEqual([]);
      expect(await server.status(who.dead)).toBe('subscribed');

      expect((await server.post('postmark', hard, basicAuth())).status).toBe(200);
      expect(await server.status(who.dead)).toBe('bounced');
      // Postmark retries with the same record.
      expect((await server.post('postmark', hard, basicAuth())).status).toBe(200);
      expect(await server.events('postmark')).toEqual([expect.objectContaining({ source_id: '4323372036854775807', email: who.dead, issue: null, kind: 'hard', action: 'bounced' })]);

      expect((await server.post('postmark', postmarkComplaint(who.angry), basicAuth())).status).toBe(200);
      expect(await server.status(who.angry)).toBe('complained');

      const blocked = postmarkBounce({ email: who.fine, type: 'Blocked', typeCode: 100006, details: 'smtp;554 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org' });
      expect((await server.post('postmark', blocked, basicAuth())).status).toBe(200);
      expect(await server.status(who.fine)).toBe('subscribed');

      expect((await server.post('postmark', postmarkDelivery(who.full), basicAuth())).status).toBe(200);
      expect((await server.post('postmark', postmarkBounce({ email: 'stranger@example.org' }), basicAuth())).status).toBe(200);
      expect((await server.events('postmark')).map((row) => [row.email, row.kind, row.action])).toEqual([
        [who.dead, 'hard', 'bounced'],
        [who.angry, 'complaint', 'complained'],
        [who.fine, 'sender', 'ignored'],
      ]);
      expect(server.refusals()).toEqual(['no basic auth credentials', 'the basic auth credentials are wrong', 'the basic auth credentials are wrong']);
    });

    test('Mailgun: HMAC of timestamp and token verified; a permanent failure and a complaint applied once, with the issue from our Message-ID; a replayed token, a forged signature and a stale timestamp refused; temporary failures of one message count once', async () => {
      const server = await start();
      const who = readers('mailgun');
      const failure = mailgunFailed({ email: who.dead, messageId: messageIds.get(who.dead) });
      const hard = mailgunSigned(failure);

      expect((await server.post('mailgun', mailgunSigned(failure, { key: 'not-the-signing-key' }), jsonHeaders)).status).toBe(401);
      expect((await server.post('mailgun', mailgunSigned(failure, { timestamp: STALE }), jsonHeaders)).status).toBe(401);
      const unsigned = JSON.parse(hard);
      unsigned.signature.signature = unsigned.signature.signature.replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
      expect((await server.post('mailgun', JSON.stringify(unsigned), jsonHeaders)).status).toBe(401);
      expect(await server.events('mailgun')).toEqual([]);

      expect((await server.post('mailgun', hard, jsonHeaders)).status).toBe(200);
      expect(await server.status(who.dead)).toBe('bounced');
      expect(await server.events('mailgun')).toEqual([expect.objectContaining({ source_id: failure.id, email: who.dead, issue: 'week', kind: 'hard', action: 'bounced' })]);
      // The same request again: its token was used.
      expect((await server.post('mailgun', hard, jsonHeaders)).status).toBe(401);
      // The same event, signed afresh (as a retry would be): taken, and changes nothing.
      expect((await server.post('mailgun', mailgunSigned(failure), jsonHeaders)).status).toBe(200);
      expect(await server.events('mailgun')).toHaveLength(1);

      expect((await server.post('mailgun', mailgunSigned(mailgunComplained(who.angry, messageIds.get(who.angry))), jsonHeaders)).status).toBe(200);
      expect(await server.status(who.angry)).toBe('complained');

      // Mailgun reports every attempt at a full mailbox; the message counts once.
      for (let attempt = 0; attempt < 3; attempt++) {
        const temporary = mailgunFailed({ email: who.full, messageId: messageIds.get(who.full), severity: 'temporary', reason: 'generic', code: 452, message: '4.2.2 The email account that you tried to reach is over quota.' });
        expect((await server.post('mailgun', mailgunSigned(temporary), jsonHeaders)).status).toBe(200);
      }
      // …and then that it gave up, with the last answer: still the same one soft bounce.
      const gaveUp = mailgunFailed({ email: who.full, messageId: messageIds.get(who.full), severity: 'permanent', reason: 'old', code: 452, message: '4.2.2 The email account that you tried to reach is over quota.' });
      expect((await server.post('mailgun', mailgunSigned(gaveUp), jsonHeaders)).status).toBe(200);
      expect(await server.status(who.full)).toBe('subscribed');

      expect((await server.post('mailgun', mailgunSigned(mailgunDelivered(who.fine)), jsonHeaders)).status).toBe(200);
      expect((await server.post('mailgun', mailgunSigned(mailgunFailed({ email: 'stranger@example.org' })), jsonHeaders)).status).toBe(200);
      expect((await server.events('mailgun')).map((row) => [row.email, row.kind, row.action])).toEqual([
        [who.dead, 'hard', 'bounced'],
        [who.angry, 'complaint', 'complained'],
        [who.full, 'soft', 'counted'],
      ]);
      expect(await server.status(who.fine)).toBe('subscribed');
      expect(server.refusals()).toEqual(['the signature does not match', 'the signature is stale', 'the signature does not match', 'the token was used before']);
    });

    test('SendGrid: a signed batch applied event by event (bounce, spam report, block, open, stranger) and once however often it is posted; an altered body, another key and a stale timestamp refused', async () => {
      const server = await start();
      const who = readers('sendgrid');
      const batch = JSON.stringify([
        sendgridBounce(who.dead),
        sendgridSpamReport(who.angry),
        sendgridBounce(who.fine, { type: 'blocked', status: '5.7.1', reason: '550 5.7.1 Message rejected due to IP reputation', classification: 'Reputation' }),
        sendgridOpen(who.full),
        sendgridDropped(who.full, 'Unsubscribed Address'),
        sendgridBounce('stranger@example.org'),
      ]);

      expect((await server.post('sendgrid', batch, { 'content-type': 'application/json' })).status).toBe(401);
      expect((await server.post('sendgrid', batch, sendgridHeaders(batch, { privateKey: otherKey }))).status).toBe(401);
      expect((await server.post('sendgrid', batch, sendgridHeaders(batch, { timestamp: STALE }))).status).toBe(401);
      const signed = sendgridHeaders(batch);
      expect((await server.post('sendgrid', batch.replace(who.dead, who.full), signed)).status).toBe(401);
      expect(await server.events('sendgrid')).toEqual([]);

      const taken = await server.post('sendgrid', batch, signed);
      expect(taken.status).toBe(200);
      expect(await taken.json()).toEqual({ status: 'ok', events: 6 });
      expect(await server.status(who.dead)).toBe('bounced');
      expect(await server.status(who.angry)).toBe('complained');
      expect(await server.status(who.fine)).toBe('subscribed');
      expect(await server.status(who.full)).toBe('subscribed');
      // SendGrid retries a batch whose answer it did not get.
      expect((await server.post('sendgrid', batch, signed)).status).toBe(200);
      expect((await server.events('sendgrid')).map((row) => [row.email, row.kind, row.action])).toEqual([
        [who.dead, 'hard', 'bounced'],
        [who.angry, 'complaint', 'complained'],
        [who.fine, 'sender', 'ignored'],
      ]);
      expect(server.refusals()).toEqual(['no signature', 'the signature does not match', 'the signature is stale', 'the signature does not match']);
    });

    test('Resend: Svix signatures verified; a bounce and a complaint applied once by svix-id; a forged, altered or stale request refused; a delivery and a stranger change nothing', async () => {
      const server = await start();
      const who = readers('resend');
      const bounce = resendBounced(who.dead);
      const headers = svixHeaders(bounce);

      expect((await server.post('resend', bounce, { 'content-type': 'application/json' })).status).toBe(401);
      expect((await server.post('resend', bounce, svixHeaders(bounce, { secret: `whsec_${Buffer.from('another secret of some length').toString('base64')}` }))).status).toBe(401);
      expect((await server.post('resend', bounce, svixHeaders(bounce, { timestamp: STALE }))).status).toBe(401);
      expect((await server.post('resend', bounce.replace(who.dead, who.fine), headers)).status).toBe(401);
      expect(await server.events('resend')).toEqual([]);

      expect((await server.post('resend', bounce, headers)).status).toBe(200);
      expect(await server.status(who.dead)).toBe('bounced');
      // Svix retries with the same svix-id.
      expect((await server.post('resend', bounce, headers)).status).toBe(200);
      expect(await server.events('resend')).toEqual([expect.objectContaining({ source_id: headers['svix-id'], email: who.dead, kind: 'hard', action: 'bounced' })]);

      const complaint = resendComplained(who.angry);
      expect((await server.post('resend', complaint, svixHeaders(complaint))).status).toBe(200);
      expect(await server.status(who.angry)).toBe('complained');

      for (const body of [resendDelivered(who.fine), resendBounced('stranger@example.org')]) expect((await server.post('resend', body, svixHeaders(body))).status).toBe(200);
      expect(await server.status(who.fine)).toBe('subscribed');
      expect(await server.events('resend')).toHaveLength(2);
      expect(server.refusals()).toEqual(['no signature', 'the signature does not match', 'the signature is stale', 'the signature does not match']);
    });
  });
});

describe('webhook routes', () => {
  test('only configured providers are served (else 404), by POST only, as JSON (SNS: text/plain), up to 1 MB; one log line per event with the domain only, no secrets', async () => {
    const db = `sqlite:${await tempDir()}/digest.db`;
    const served = await serve(db, { webhooks: (config) => webhooksFrom(config, { DIGEST_WEBHOOK_POSTMARK_USER: POSTMARK_USER, DIGEST_WEBHOOK_POSTMARK_PASSWORD: POSTMARK_PASSWORD }) });
    await served.subscribe('reader@example.org');
    const post = (path: string, body: string, headers: Record<string, string> = basicAuth()) => fetch(`${served.url}${path}`, { method: 'POST', headers, body });

    for (const provider of ['ses', 'mailgun', 'sendgrid', 'resend', 'elsewhere']) expect((await post(`/webhooks/${provider}`, '{}', jsonHeaders)).status).toBe(404);
    expect((await fetch(`${served.url}/webhooks/postmark`)).status).toBe(405);
    expect((await post('/webhooks/postmark', postmarkBounce({ email: 'reader@example.org' }), { ...basicAuth(), 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('/webhooks/postmark', `{"pad":"${'x'.repeat(1024 * 1024)}"}`)).status).toBe(413);
    expect((await post('/webhooks/postmark', 'not json')).status).toBe(400);

    expect((await post('/webhooks/postmark', postmarkBounce({ email: 'reader@example.org' }))).status).toBe(200);
    // A second bounce, once the reader is bounced: the ledger's reason names them, the log does not.
    expect((await post('/webhooks/postmark', postmarkBounce({ email: 'Reader@Example.org' }))).status).toBe(200);
    const lines = served.logs.filter((entry) => entry.msg === 'webhook');
    expect(lines).toEqual([
      expect.objectContaining({ provider: 'postmark', kind: 'hard', action: 'bounced', domain: 'example.org' }),
      expect.objectContaining({ provider: 'postmark', kind: 'hard', action: 'ignored', domain: 'example.org', reason: '…@example.org is bounced already' }),
    ]);
    const everything = JSON.stringify(served.logs);
    expect(everything.toLowerCase()).not.toContain('reader@example.org');
    expect(everything).not.toContain(POSTMARK_PASSWORD);
    expect(served.logs.filter((entry) => entry.msg === 'webhook refused').map((entry) => entry.status)).toEqual([400]);
  });
});

describe('turning webhooks on', () => {
  const config = () => loadConfig({ cwd: tempProject({}, CONFIG) });

  test('each provider is on when its secret is set (SES: when topics are listed); none set, none served', async () => {
    expect(webhooksFrom(await loadConfig({ cwd: tempProject({}, 'name: x\n') }), {})).toBeUndefined();
    expect(webhooksFrom(await config(), ENV)?.providers).toEqual(['ses', 'postmark', 'mailgun', 'sendgrid', 'resend']);
    expect(webhooksFrom(await config(), { MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY })?.providers).toEqual(['ses', 'mailgun']);
  });

  test('a secret that cannot be used stops the server with a message naming the variable, never its value', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ DIGEST_WEBHOOK_POSTMARK_USER: 'postmark' }, /DIGEST_WEBHOOK_POSTMARK_PASSWORD/],
      [{ DIGEST_WEBHOOK_POSTMARK_USER: 'postmark', DIGEST_WEBHOOK_POSTMARK_PASSWORD: 'short-secret' }, /at least 16 characters/],
      [{ SENDGRID_WEBHOOK_PUBLIC_KEY: 'bm90IGEga2V5IGF0IGFsbA==' }, /SENDGRID_WEBHOOK_PUBLIC_KEY is not a public key/],
      [{ RESEND_WEBHOOK_SECRET: 're_not_a_signing_secret' }, /RESEND_WEBHOOK_SECRET must be the webhook's signing secret/],
    ];
    for (const [env, message] of cases) {
      let thrown: unknown;
      try {
        webhooksFrom(await config(), env);
      } catch (error) {
        thrown = error;
      }
      expect(isUserError(thrown), String(thrown)).toBe(true);
      expect((thrown as Error).message).toMatch(message);
      for (const value of Object.values(env)) if (value.length > 8) expect((thrown as Error).message).not.toContain(value);
    }
    // An RSA key is a key, but not SendGrid's kind.
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const loaded = await config();
    expect(() => webhooksFrom(loaded, { SENDGRID_WEBHOOK_PUBLIC_KEY: rsa })).toThrow(/not an ECDSA P-256 key/);
  });

  test('digest serve refuses to start on such a secret, in one line', async () => {
    const root = tempProject({}, CONFIG);
    const run = await runCli(['serve', '--port', '0', '--db', `sqlite:${await tempDir()}/d.db`], { cwd: root, env: { DIGEST_SECRET: SECRET, SENDGRID_WEBHOOK_PUBLIC_KEY: 'bm90IGEga2V5IGF0IGFsbA==' } });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^digest: SENDGRID_WEBHOOK_PUBLIC_KEY is not a public key/)]);
    expect(run.stderr).not.toContain('bm90IGEga2V5IGF0IGFsbA==');
  });

  test('webhooks.ses.topics takes SNS topic ARNs only', async () => {
    const root = tempProject({}, 'name: x\nwebhooks:\n  ses:\n    topics: [digest-bounces]\n');
    await expect(loadConfig({ cwd: root })).rejects.toThrow(/must be an SNS topic ARN/);
  });
});

describe('verification against the providers’ own published examples', () => {
  test("SendGrid's test vector (sendgrid-nodejs, eventwebhook.spec.js) verifies, and fails once anything changes", () => {
    const key = createPublicKey({ key: Buffer.from('MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==', 'base64'), format: 'der', type: 'spki' });
    const payload = Buffer.from(JSON.stringify({ category: 'example_payload', event: 'test_event', message_id: 'message_id' }));
    const signature = 'MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=';
    expect(sendgridSigned(key, '1588788367', payload, signature)).toBe(true);
    expect(sendgridSigned(key, '1588788368', payload, signature)).toBe(false);
    expect(sendgridSigned(key, '1588788367', Buffer.from('payload'), signature)).toBe(false);
    expect(sendgridSigned(key, '1588788367', payload, signature.replace('2j/0=', '3j/0='))).toBe(false);
  });

  test("Svix's documented example (whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw) verifies, among rotated signatures too, and fails once anything changes", () => {
    const key = svixKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')!;
    const body = Buffer.from('{"test": 2432232314}');
    const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
    const signature = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
    expect(svixSigned(key, id, '1614265330', body, signature)).toBe(true);
    expect(svixSigned(key, id, '1614265330', body, `v1,bm90IHRoaXMgb25l ${signature}`)).toBe(true);
    expect(svixSigned(key, id, '1614265331', body, signature)).toBe(false);
    expect(svixSigned(key, 'msg_other', '1614265330', body, signature)).toBe(false);
    expect(svixSigned(key, id, '1614265330', Buffer.from('{"test": 2432232315}'), signature)).toBe(false);
    expect(svixSigned(key, id, '1614265330', body, signature.replace('v1,', 'v2,'))).toBe(false);
  });
});
