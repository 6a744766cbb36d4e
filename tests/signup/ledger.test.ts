import { describe, expect, it } from 'vitest';
import { SignupLedger, signupKey } from '../../src/signup/ledger.js';
import { onEachDatabase, storeOpener } from '../audience/databases.js';

const key = signupKey('a sign-up test secret, long enough to use');
const at = (iso: string) => new Date(iso);
const minutes = (start: string, n: number) => new Date(Date.parse(start) + n * 60_000);

onEachDatabase((target) => {
  describe('sign-up with double opt-in: the ledger', () => {
    const open = storeOpener(target);

    it('puts an address on the list only once its owner confirms, with the consent recorded', async () => {
      const store = await open();
      const ledger = new SignupLedger(store, key);
      const asked = await ledger.request({ email: ' Wren@Example.org ', name: 'Wren Castellano', source: 'form', consentVersion: '2026-11' }, at('2026-11-30T10:00:00Z'));
      expect(asked).toMatchObject({ kind: 'mail', email: 'Wren@Example.org' });
      // Pending: counted, but on no list a send reads.
      expect(await ledger.pending(at('2026-11-30T10:01:00Z'))).toBe(1);
      expect(await store.get('wren@example.org')).toBeUndefined();
      expect((await store.count()).total).toBe(0);

      const token = (asked as { token: string }).token;
      expect(token).not.toContain('Wren');
      expect(await ledger.confirm(token, at('2026-11-30T10:05:00Z'))).toEqual({ kind: 'confirmed', email: 'Wren@Example.org', name: 'Wren Castellano' });
      expect(await store.get('wren@example.org')).toMatchObject({ status: 'subscribed', name: 'Wren Castellano', consentSource: 'form', consentAt: '2026-11-30T10:05:00.000Z' });
      expect(await ledger.pending(at('2026-11-30T10:06:00Z'))).toBe(0);
      const [record] = await store.dialect.db.selectFrom('signups').selectAll().execute();
      expect(record).toMatchObject({ requested_at: '2026-11-30T10:00:00.000Z', confirmed_at: '2026-11-30T10:05:00.000Z', source: 'form', consent_version: '2026-11', ip: null });
    });

    it('counts two presses of the button at once as one confirmation (one welcome, not two)', async () => {
      const store = await open();
      const ledger = new SignupLedger(store, key);
      const { token } = (await ledger.request({ email: 'twice@example.org', source: 'form' }, at('2026-11-30T10:00:00Z'))) as { token: string };
      const outcomes = await Promise.all([1, 2, 3].map(() => ledger.confirm(token, at('2026-11-30T10:05:00Z'))));
      expect(outcomes.filter((outcome) => outcome.kind === 'confirmed')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome.kind === 'already')).toHaveLength(2);
      expect((await store.get('twice@example.org'))?.status).toBe('subscribed');
    });

    it('answers a subscribed address and a repeat within ten minutes without mailing anything', async () => {
      const store = await open();
      await store.upsert([{ email: 'bo@example.org', international: false }], { source: 'test' });
      const ledger = new SignupLedger(store, key);
      expect(await ledger.request({ email: 'BO@example.org', source: 'form' })).toEqual({ kind: 'quiet', why: 'subscribed' });
      const start = '2026-11-30T10:00:00Z';
      expect((await ledger.request({ email: 'cy@example.org', source: 'form' }, at(start))).kind).toBe('mail');
      expect(await ledger.request({ email: 'Cy@example.org', source: 'form' }, minutes(start, 9))).toEqual({ kind: 'quiet', why: 'recently-mailed' });
      expect((await ledger.request({ email: 'cy@example.org', source: 'form' }, minutes(start, 11))).kind).toBe('mail');
    });

    it('refuses an address mail cannot reach, in words', async () => {
      const ledger = new SignupLedger(await open(), key);
      await expect(ledger.request({ email: 'not an address', source: 'form' })).rejects.toMatchObject({ code: 'invalid-address' });
    });

    it('changes nothing for a forged, altered, expired or replayed token', async () => {
      const store = await open();
      const ledger = new SignupLedger(store, key);
      const asked = (await ledger.request({ email: 'dee@example.org', source: 'form' }, at('2026-11-01T00:00:00Z'))) as { token: string };
      expect(await ledger.confirm(asked.token, at('2026-11-08T00:00:01Z'))).toEqual({ kind: 'expired' });
      const flipped = `${asked.token.slice(0, 12)}${asked.token[12] === 'A' ? 'B' : 'A'}${asked.token.slice(13)}`;
      for (const bad of [flipped, asked.token.slice(0, -3), 'u1.AAAA', '']) expect(await ledger.confirm(bad, at('2026-11-02T00:00:00Z'))).toEqual({ kind: 'invalid' });
      // Sealed with another secret: not ours.
      const foreign = (await new SignupLedger(store, signupKey('some other secret that is long enough!!')).request({ email: 'eve@example.org', source: 'form' })) as { token: string };
      expect(await ledger.confirm(foreign.token)).toEqual({ kind: 'invalid' });
      expect(await store.get('dee@example.org')).toBeUndefined();

      // Confirmed, then unsubscribed: the old link does not bring the reader back.
      expect((await ledger.confirm(asked.token, at('2026-11-02T00:00:00Z'))).kind).toBe('confirmed');
      await store.unsubscribe('dee@example.org', 'one-click');
      expect(await ledger.confirm(asked.token, at('2026-11-03T00:00:00Z'))).toEqual({ kind: 'already' });
      expect((await store.get('dee@example.org'))?.status).toBe('unsubscribed');
    });

    it('is the way back for an address that unsubscribed, bounced or was erased, and only by confirming', async () => {
      const store = await open();
      await store.upsert(
        [
          { email: 'left@example.org', status: 'unsubscribed', international: false },
          { email: 'dead@example.org', status: 'bounced', international: false },
          { email: 'gone@example.org', international: false },
        ],
        { source: 'test' },
      );
      await store.remove('gone@example.org');
      const ledger = new SignupLedger(store, key);
      for (const email of ['left@example.org', 'dead@example.org', 'gone@example.org']) {
        const asked = (await ledger.request({ email, source: 'https://news.example' })) as { kind: string; token: string };
        expect(asked.kind).toBe('mail');
        // Asking is not enough.
        expect((await store.get(email))?.status ?? 'erased').not.toBe('subscribed');
        expect((await ledger.confirm(asked.token)).kind).toBe('confirmed');
        expect(await store.get(email)).toMatchObject({ status: 'subscribed', consentSource: 'https://news.example', withdrawnAt: null });
      }
      expect(await store.isErased('gone@example.org')).toBe(false);
    });

    it('forgets requests never confirmed once their token has expired, and keeps the confirmed ones as the record', async () => {
      const store = await open();
      const ledger = new SignupLedger(store, key, { ttlMs: 60 * 60_000 });
      const start = '2026-11-30T00:00:00Z';
      const kept = (await ledger.request({ email: 'kept@example.org', source: 'form' }, at(start))) as { token: string };
      await ledger.confirm(kept.token, minutes(start, 5));
      await ledger.request({ email: 'old@example.org', source: 'form' }, at(start));
      await ledger.request({ email: 'new@example.org', source: 'form' }, minutes(start, 50));
      expect(await ledger.pending(minutes(start, 70))).toBe(1);
      expect(await ledger.purge(minutes(start, 70))).toBe(1);
      const left = await store.dialect.db.selectFrom('signups').select('email').orderBy('email').execute();
      expect(left.map((row) => row.email)).toEqual(['kept@example.org', 'new@example.org']);
    });
  });
});
