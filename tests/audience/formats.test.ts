import { describe, expect, test } from 'vitest';
import { importFile } from '../../src/audience/import.js';
import type { Subscriber, SubscriberStore } from '../../src/audience/store.js';
import { fixture, onEachDatabase, storeOpener } from './databases.js';

async function byEmail(store: SubscriberStore): Promise<Record<string, Subscriber>> {
  const found: Record<string, Subscriber> = {};
  for await (const subscriber of store.list()) found[subscriber.email] = subscriber;
  return found;
}

const statuses = (subscribers: Record<string, Subscriber>) => Object.fromEntries(Object.entries(subscribers).map(([email, s]) => [email, s.status]));

onEachDatabase((target) => {
  const fresh = storeOpener(target);

  describe('importing each service’s export, detected from its header row', () => {
    test('Mailchimp: subscribed, unsubscribed and cleaned files; names, tags, consent and merge fields', async () => {
      const store = await fresh();
      for (const name of ['mailchimp-subscribed.csv', 'mailchimp-unsubscribed.csv', 'mailchimp-cleaned.csv']) {
        expect(await importFile(store, fixture('services', name))).toMatchObject({ format: 'mailchimp', rejected: [] });
      }
      const list = await byEmail(store);
      expect(statuses(list)).toEqual({ 'ada@example.com': 'subscribed', 'grace@example.com': 'subscribed', 'alan@example.com': 'unsubscribed', 'gone@example.com': 'bounced' });
      expect(list['ada@example.com']).toMatchObject({
        name: 'Ada Lovelace',
        tags: ['Customer', 'VIP'],
        consentSource: 'mailchimp',
        consentAt: '2023-01-05T10:12:00.000Z',
        attributes: { Address: '12 St James\'s Square, London' },
      });
      expect(list['alan@example.com']).toMatchObject({ withdrawnAt: '2023-04-02T12:00:00.000Z', withdrawnHow: 'mailchimp: unsubscribed (NORMAL)' });
      expect(list['gone@example.com']).toMatchObject({ withdrawnHow: 'mailchimp: cleaned' });
    });

    test('re-importing the subscribed Mailchimp file does not resubscribe anyone who unsubscribed since', async () => {
      const store = await fresh();
      await importFile(store, fixture('services', 'mailchimp-unsubscribed.csv'));
      await importFile(store, fixture('services', 'ghost.csv'));
      expect((await store.get('alan@example.com'))?.status).toBe('unsubscribed');
    });

    // active_subscription is about a paid plan: a free reader has it false and is mailed all the same.
    test('Substack: only email_disabled=true is unsubscribed; free and lapsed readers are subscribed, their plan kept as attributes', async () => {
      const store = await fresh();
      expect(await importFile(store, fixture('services', 'substack.csv'))).toMatchObject({ format: 'substack', imported: 5, rejected: [] });
      const list = await byEmail(store);
      expect(statuses(list)).toEqual({
        'ada@example.com': 'subscribed',
        'grace@example.com': 'subscribed',
        'alan@example.com': 'unsubscribed',
        'old@example.com': 'subscribed',
        'quiet@example.com': 'unsubscribed',
      });
      expect(list['ada@example.com']).toMatchObject({ attributes: { active_subscription: 'false', plan: 'free' }, consentAt: '2023-01-05T10:11:12.000Z', withdrawnHow: null });
      expect(list['grace@example.com']?.attributes).toMatchObject({ active_subscription: 'true', plan: 'yearly', expiry: '2025-03-01T00:00:00.000Z' });
      expect(list['quiet@example.com']).toMatchObject({ attributes: { active_subscription: 'true', plan: 'monthly' }, withdrawnHow: 'substack: email disabled' });
    });

    test('Ghost: subscribed_to_emails false is unsubscribed; labels become tags', async () => {
      const store = await fresh();
      expect(await importFile(store, fixture('services', 'ghost.csv'))).toMatchObject({ format: 'ghost', imported: 3 });
      const list = await byEmail(store);
      expect(statuses(list)).toEqual({ 'ada@example.com': 'subscribed', 'alan@example.com': 'unsubscribed', 'grace@example.com': 'subscribed' });
      expect(list['ada@example.com']).toMatchObject({ name: 'Ada Lovelace', tags: ['vip', 'founders'], attributes: { note: 'early reader', tiers: 'Free' } });
    });

    test('Buttondown: subscriber types map to statuses, unconfirmed ones are refused, metadata becomes attributes', async () => {
      const store = await fresh();
      const result = await importFile(store, fixture('services', 'buttondown.csv'));
      expect(result).toMatchObject({ format: 'buttondown', imported: 5, rejected: [{ line: 6, reason: expect.stringContaining('never confirmed') }] });
      const list = await byEmail(store);
      expect(statuses(list)).toEqual({
        'ada@example.com': 'subscribed',
        'alan@example.com': 'unsubscribed',
        'gone@example.com': 'bounced',
        'spam@example.com': 'complained',
        'grace@example.com': 'subscribed',
      });
      expect(list['ada@example.com']).toMatchObject({ tags: ['vip'], attributes: { city: 'London' } });
    });

    test('Kit: states map to statuses, inactive subscribers are refused, custom fields become attributes', async () => {
      const store = await fresh();
      const result = await importFile(store, fixture('services', 'kit.csv'));
      expect(result).toMatchObject({ format: 'kit', imported: 4, rejected: [{ line: 5, reason: expect.stringContaining('never confirmed') }] });
      const list = await byEmail(store);
      expect(statuses(list)).toEqual({ 'ada@example.com': 'subscribed', 'alan@example.com': 'unsubscribed', 'gone@example.com': 'bounced', 'grace@example.com': 'complained' });
      expect(list['ada@example.com']).toMatchObject({ name: 'Ada', tags: ['vip', 'founders'], attributes: { company: 'Analytical Engines Ltd' }, consentAt: '2023-01-05T10:11:12.000Z' });
    });

    test('listmonk: blocklisted is unsubscribed; attributes JSON is kept', async () => {
      const store = await fresh();
      expect(await importFile(store, fixture('services', 'listmonk.csv'))).toMatchObject({ format: 'listmonk', imported: 2 });
      const list = await byEmail(store);
      expect(statuses(list)).toEqual({ 'ada@example.com': 'subscribed', 'alan@example.com': 'unsubscribed' });
      expect(list['ada@example.com']?.attributes).toEqual({ city: 'London', plan: 'free' });
    });

    test('a semicolon-separated spreadsheet with an E-mail column and padded cells', async () => {
      const store = await fresh();
      expect(await importFile(store, fixture('services', 'spreadsheet-semicolon.csv'))).toMatchObject({ format: 'csv', imported: 2 });
      const list = await byEmail(store);
      expect(list['ada@example.com']).toMatchObject({ name: 'Ada Lovelace', tags: ['vip'], attributes: { City: 'London' } });
      expect(list['GRACE@EXAMPLE.COM']).toBeDefined();
    });

    test('--format names the format when detection would choose another, and says so when its column is missing', async () => {
      const store = await fresh();
      await expect(importFile(store, fixture('services', 'substack.csv'), { format: 'mailchimp' })).rejects.toThrow(/no email column for the Mailchimp format/);
      expect(await store.count()).toMatchObject({ total: 0 });
    });
  });
});
