/**
 * Sign-up with double opt-in over HTTP: a real `digest serve` on 127.0.0.1 whose confirmations go to
 * a real SMTP server on loopback, on SQLite and PostgreSQL.
 */
import { describe, expect, test } from 'vitest';
import { onEachDatabase } from '../audience/databases.js';
import { startSink } from '../smtp-sink.js';
import { CONFIG, serve } from './helpers.js';

const signupConfig = (extra = '') => `${CONFIG}from: "Test Gazette <news@gazette.example>"
address: "1 Press Lane, Testville"
signup:
  enabled: true
  tags: [weekly]
  allowedOrigins: [https://gazette.example]
${extra}`;

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});
const json = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** The confirmation link in the message the sink received for this address. */
async function confirmationLink(sink: Awaited<ReturnType<typeof startSink>>, email: string): Promise<string> {
  await expect.poll(() => sink.received.filter((message) => message.recipient === email).length, { timeout: 15_000 }).toBe(1);
  const message = sink.received.find((received) => received.recipient === email)!;
  return /https:\/\/gazette\.example\/news\/confirm\?token=[^\s>\]]+/.exec(message.parsed.text ?? '')![0]!;
}

onEachDatabase((target) => {
  describe('sign-up with double opt-in', () => {
    test('form, confirmation email, a GET that changes nothing, the button that subscribes', async () => {
      const sink = await startSink();
      try {
        const s = await serve(await target.fresh(), { config: signupConfig(), signupVia: sink.url });
        const page = await fetch(`${s.url}/news/subscribe`);
        expect(page.status).toBe(200);
        const html = await page.text();
        expect(html).toContain('<label for="email">Email address</label>');
        expect(html).toContain('Send me this newsletter by email.');

        const asked = await fetch(`${s.url}/news/subscribe`, form({ email: 'wren@example.org', name: 'Wren Castellano' }));
        expect(asked.status).toBe(200);
        expect(await asked.text()).toContain('Check your inbox');
        const link = await confirmationLink(sink, 'wren@example.org');
        const message = sink.received[0]!;
        expect(message.parsed.subject).toBe('Confirm your subscription');
        expect(message.parsed.from?.text).toContain('news@gazette.example');
        expect(String(message.raw)).toMatch(/^List-Unsubscribe:/m);

        const local = link.replace('https://gazette.example', s.url);
        const shown = await fetch(local);
        expect(shown.status).toBe(200);
        expect(await shown.text()).toContain('<input type="hidden" name="token"');
        // Opening the link (as a mail scanner does) changes nothing.
        expect(await s.store.get('wren@example.org')).toBeUndefined();

        const token = new URL(link).searchParams.get('token')!;
        const confirmed = await fetch(local, form({ token }));
        expect(confirmed.status).toBe(200);
        expect(await confirmed.text()).toContain('You are subscribed');
        expect(await s.store.get('wren@example.org')).toMatchObject({ status: 'subscribed', name: 'Wren Castellano', tags: ['weekly'], consentSource: 'form' });
        const again = await fetch(local, form({ token }));
        expect(again.status).toBe(409);
        expect(await again.text()).toContain('Already confirmed');
        // The link opened again after use shows no button.
        const reopened = await fetch(local);
        expect(reopened.status).toBe(409);
        expect(await reopened.text()).not.toContain('<button');
        await s.stop();
      } finally {
        await sink.close();
      }
    });

    test('answers the same for a new, subscribed, unsubscribed and pending address, and mails only those who may join', async () => {
      const sink = await startSink();
      try {
        const s = await serve(await target.fresh(), { config: signupConfig(), signupVia: sink.url });
        await s.subscribe('member@example.org');
        await s.store.unsubscribe('left@example.org', 'one-click');
        const answers = [];
        for (const email of ['new@example.org', 'member@example.org', 'left@example.org', 'new@example.org']) {
          const response = await fetch(`${s.url}/news/subscribe`, json({ email }, { origin: 'https://gazette.example' }));
          answers.push([response.status, await response.text()]);
        }
        expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
        expect(answers[0]![0]).toBe(200);
        await confirmationLink(sink, 'new@example.org');
        await confirmationLink(sink, 'left@example.org');
        await new Promise((settle) => setTimeout(settle, 300));
        expect(sink.received.map((message) => message.recipient).sort()).toEqual(['left@example.org', 'new@example.org']);
        expect((await s.store.get('left@example.org'))?.status).toBe('unsubscribed');
        await s.stop();
      } finally {
        await sink.close();
      }
    });

    test('an address that unsubscribed, bounced or was erased rejoins only by its own confirmation, with fresh consent', async () => {
      const sink = await startSink();
      try {
        const s = await serve(await target.fresh(), { config: signupConfig(), signupVia: sink.url });
        await s.store.unsubscribe('left@example.org', 'one-click');
        await s.store.upsert([{ email: 'dead@example.org', international: false, status: 'bounced' }], { source: 'test' });
        await s.subscribe('gone@example.org');
        await s.store.remove('gone@example.org');
        for (const email of ['left@example.org', 'dead@example.org', 'gone@example.org']) {
          expect((await fetch(`${s.url}/news/subscribe`, form({ email }))).status).toBe(200);
          const link = (await confirmationLink(sink, email)).replace('https://gazette.example', s.url);
          // Asking is not joining.
          expect((await s.store.suppressed([email])).has(email)).toBe(true);
          const token = new URL(link).searchParams.get('token')!;
          expect((await fetch(link, form({ token }))).status).toBe(200);
          const back = await s.store.get(email);
          expect(back).toMatchObject({ status: 'subscribed', consentSource: 'form', withdrawnAt: null, tags: ['weekly'] });
          expect(Date.now() - Date.parse(back!.consentAt!)).toBeLessThan(60_000);
        }
        expect(await s.store.isErased('gone@example.org')).toBe(false);
        await s.stop();
      } finally {
        await sink.close();
      }
    });

    test('the welcome issue named in the config goes to a reader once, when they confirm', async () => {
      const sink = await startSink();
      try {
        const welcome = '---\ntitle: Welcome aboard\ndate: 2026-11-01\nsubject: Welcome to the Test Gazette\n---\nHello {{default subscriber.name "there"}}: here is what to expect each Friday.\n';
        const s = await serve(await target.fresh(), { config: signupConfig('  welcome: welcome.md\n'), signupVia: sink.url, files: { 'welcome.md': welcome } });
        await fetch(`${s.url}/news/subscribe`, form({ email: 'wren@example.org', name: 'Wren' }));
        const link = (await confirmationLink(sink, 'wren@example.org')).replace('https://gazette.example', s.url);
        const token = new URL(link).searchParams.get('token')!;
        await Promise.all([fetch(link, form({ token })), fetch(link, form({ token }))]);
        await expect.poll(() => sink.received.filter((message) => message.parsed.subject === 'Welcome to the Test Gazette').length, { timeout: 15_000 }).toBe(1);
        await new Promise((settle) => setTimeout(settle, 300));
        const welcomes = sink.received.filter((message) => message.parsed.subject === 'Welcome to the Test Gazette');
        expect(welcomes.map((message) => message.recipient)).toEqual(['wren@example.org']);
        expect(welcomes[0]!.parsed.text).toContain('Hello Wren');
        // An issue like any other: the reader's own unsubscribe link and header.
        expect(String(welcomes[0]!.raw)).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
        await s.stop();
      } finally {
        await sink.close();
      }
    });
  });
});

describe('sign-up refuses abuse and bad input', () => {
  const database = async () => `sqlite:${(await import('node:path')).join(await (await import('../audience/databases.js')).tempDir(), 'digest.db')}`;

  test('a filled honeypot gets the usual answer and nothing is stored or sent', async () => {
    const sink = await startSink();
    try {
      const s = await serve(await database(), { config: signupConfig(), signupVia: sink.url });
      const response = await fetch(`${s.url}/news/subscribe`, form({ email: 'bot@example.org', website: 'https://spam.example' }));
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('Check your inbox');
      await new Promise((settle) => setTimeout(settle, 300));
      expect(sink.received).toHaveLength(0);
      expect(await s.store.dialect.db.selectFrom('signups').selectAll().execute()).toEqual([]);
    } finally {
      await sink.close();
    }
  });

  test('too many requests from one address get 429 with Retry-After', async () => {
    const s = await serve(await database(), { config: signupConfig('  perIpPerMinute: 3\n'), signupVia: 'outbox:outbox' });
    const statuses = [];
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${s.url}/news/subscribe`, form({ email: `r${i}@example.org` }));
      statuses.push(response.status);
      if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });

  test('an invalid address is said plainly: on the page with the form again, and as a 400 in JSON', async () => {
    const s = await serve(await database(), { config: signupConfig(), signupVia: 'outbox:outbox' });
    const page = await fetch(`${s.url}/news/subscribe`, form({ email: 'not an address' }));
    expect(page.status).toBe(400);
    const html = await page.text();
    expect(html).toContain('role="alert"');
    expect(html).toContain('<form method="post"');
    const api = await fetch(`${s.url}/news/subscribe`, json({ email: 'nope' }));
    expect(api.status).toBe(400);
    expect(await api.json()).toEqual({ error: expect.stringContaining('not an email address') });
  });

  test('JSON only from the origins the config lists; forms from anywhere; bodies of a few KB at most', async () => {
    const s = await serve(await database(), { config: signupConfig(), signupVia: 'outbox:outbox' });
    const foreign = await fetch(`${s.url}/news/subscribe`, json({ email: 'a@example.org' }, { origin: 'https://elsewhere.example' }));
    expect(foreign.status).toBe(403);
    const preflight = await fetch(`${s.url}/news/subscribe`, { method: 'OPTIONS', headers: { origin: 'https://gazette.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://gazette.example');
    const listed = await fetch(`${s.url}/news/subscribe`, json({ email: 'b@example.org' }, { origin: 'https://gazette.example' }));
    expect(listed.status).toBe(200);
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://gazette.example');
    const embedded = await fetch(`${s.url}/news/subscribe`, { ...form({ email: 'c@example.org' }), headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://blog.example' } });
    expect(embedded.status).toBe(200);
    const huge = await fetch(`${s.url}/news/subscribe`, form({ email: 'd@example.org', name: 'x'.repeat(10_000) }));
    expect(huge.status).toBe(413);
  });

  test('a forged or altered confirmation link is refused on GET and POST, and nothing changes', async () => {
    const s = await serve(await database(), { config: signupConfig(), signupVia: 'outbox:outbox' });
    for (const token of ['s1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'garbage', '']) {
      const shown = await fetch(`${s.url}/news/confirm?token=${encodeURIComponent(token)}`);
      expect(shown.status).toBe(400);
      expect(await shown.text()).toContain('This link is not valid');
      const posted = await fetch(`${s.url}/news/confirm`, form({ token }));
      expect(posted.status).toBe(400);
    }
    expect((await s.store.count()).total).toBe(0);
  });

  test('an expired link says so with 410 and changes nothing', async () => {
    const s = await serve(await database(), { config: signupConfig('  tokenDays: 0.00001\n'), signupVia: 'outbox:outbox' });
    const { token } = (await s.signup!.ledger.request({ email: 'late@example.org', source: 'form' })) as { token: string };
    await new Promise((settle) => setTimeout(settle, 1200));
    const shown = await fetch(`${s.url}/news/confirm?token=${encodeURIComponent(token)}`);
    expect(shown.status).toBe(410);
    expect(await shown.text()).toContain('This link has expired');
    expect((await fetch(`${s.url}/news/confirm`, form({ token }))).status).toBe(410);
    expect(await s.store.get('late@example.org')).toBeUndefined();
  });

  test('X-Forwarded-For is believed only with trustProxy, and the address kept only with storeIp', async () => {
    const flood = async (url: string, count: number, forwardedFor: (i: number) => string, who = 'x') => {
      const statuses = [];
      for (let i = 0; i < count; i++) {
        const response = await fetch(`${url}/news/subscribe`, { ...form({ email: `${who}${i}@example.org` }), headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwardedFor(i) } });
        statuses.push(response.status);
      }
      return statuses;
    };
    // Untrusted: a client cannot dodge the limit by making up a new address each time.
    const direct = await serve(await database(), { config: signupConfig('  perIpPerMinute: 2\n'), signupVia: 'outbox:outbox' });
    expect(await flood(direct.url, 3, (i) => `198.51.100.${i}`)).toEqual([200, 200, 429]);
    expect((await direct.store.dialect.db.selectFrom('signups').select('ip').execute()).map((row) => row.ip)).toEqual([null, null]);
    // Behind a trusted proxy each reader has their own limit, and with storeIp their address is kept.
    const proxied = await serve(await database(), { config: signupConfig('  perIpPerMinute: 2\n  trustProxy: true\n  storeIp: true\n'), signupVia: 'outbox:outbox' });
    expect(await flood(proxied.url, 3, (i) => `198.51.100.${i}, 10.0.0.1`)).toEqual([200, 200, 200]);
    expect(await flood(proxied.url, 3, () => '203.0.113.9', 'y')).toEqual([200, 200, 429]);
    const ips = (await proxied.store.dialect.db.selectFrom('signups').select('ip').orderBy('requested_at').execute()).map((row) => row.ip);
    expect(ips).toEqual(['198.51.100.0', '198.51.100.1', '198.51.100.2', '203.0.113.9', '203.0.113.9']);
  });

  test('is not served unless the config turns it on', async () => {
    const s = await serve(await database());
    expect((await fetch(`${s.url}/news/subscribe`)).status).toBe(404);
  });
});
