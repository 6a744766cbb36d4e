/**
 * How the report counts, on a real database: the list's history from consent and withdrawal
 * records, the period chosen for the span, and a long send's acceptances gathered into buckets.
 */
import { describe, expect, test } from 'vitest';
import { issueFigures } from '../../src/report/issue-figures.js';
import { listFigures, periodOf } from '../../src/report/list-figures.js';
import { onEachDatabase, storeOpener } from '../audience/databases.js';

onEachDatabase((target) => {
  describe('report figures', () => {
    const open = storeOpener(target);

    test('the list over time: joins by consent, leaves by withdrawal and how, new subscribers by source', async () => {
      const store = await open();
      const at = (day: string) => `${day}T10:00:00.000Z`;
      await store.upsert(
        [
          { email: 'a@example.org', international: false, status: 'subscribed', consentSource: 'form', consentAt: at('2026-11-02') },
          { email: 'b@example.org', international: false, status: 'subscribed', consentSource: 'form', consentAt: at('2026-11-10') },
          { email: 'c@example.org', international: false, status: 'unsubscribed', consentSource: 'import', consentAt: at('2026-11-03'), withdrawnAt: at('2026-11-17') },
          { email: 'd@example.org', international: false, status: 'bounced', consentSource: 'cli', consentAt: at('2026-11-04'), withdrawnAt: at('2026-11-24') },
          // Imported as already gone, with no consent on our record: counted as left, never as new.
          { email: 'e@example.org', international: false, status: 'unsubscribed', consentAt: null, withdrawnAt: at('2026-11-25') },
        ],
        { source: 'test' },
      );
      const list = await listFigures(store.dialect, new Date('2026-11-30T12:00:00Z'));
      expect(list.period).toBe('week');
      expect(list.size.map((point) => point.period)).toEqual(['2026-11-02', '2026-11-09', '2026-11-16', '2026-11-23', '2026-11-30']);
      expect(list.size.map((point) => point.subscribed)).toEqual([3, 4, 3, 2, 2]);
      expect(list.size.map((point) => point.unsubscribed)).toEqual([0, 0, 1, 2, 2]);
      expect(list.size.map((point) => point.bounced)).toEqual([0, 0, 0, 1, 1]);
      expect(list.sources).toEqual(['form', 'cli', 'import']);
      expect(list.joined.map((point) => point.bySource)).toEqual([
        { form: 1, cli: 1, import: 1 },
        { form: 1, cli: 0, import: 0 },
        { form: 0, cli: 0, import: 0 },
        { form: 0, cli: 0, import: 0 },
        { form: 0, cli: 0, import: 0 },
      ]);
      expect(list.issues).toEqual([]);
    });

    test('a list with years of history is drawn by month', async () => {
      const store = await open();
      await store.upsert([{ email: 'old@example.org', international: false, status: 'subscribed', consentSource: 'import', consentAt: '2023-05-17T00:00:00.000Z' }], { source: 'test' });
      const list = await listFigures(store.dialect, new Date('2026-11-30T12:00:00Z'));
      expect(list.period).toBe('month');
      expect(list.size[0]).toMatchObject({ period: '2023-05', subscribed: 1 });
      expect(list.size.at(-1)).toMatchObject({ period: '2026-11', subscribed: 1 });
      expect(list.size).toHaveLength(43);
    });

    test('a send spread over hours is gathered into buckets, gaps as zeros, every acceptance counted', async () => {
      const store = await open();
      const db = store.dialect.db;
      await db.insertInto('sends').values({ issue: 'long', subject: 'Long', started_at: '2026-11-30T08:00:00.000Z', enqueued_at: null, completed_at: null, excluded: 0 }).execute();
      const times = ['08:00:10', '08:01:00', '08:04:59', '10:30:00', '13:59:59'];
      await db
        .insertInto('send_journal')
        .values(times.map((time, i) => ({ issue: 'long', email_key: `r${i}@example.org`, email: `r${i}@example.org`, state: 'sent' as const, attempts: 1, updated_at: `2026-11-30T${time}.000Z`, attributes: '{}' })))
        .execute();
      const figures = (await issueFigures(store.dialect, 'long'))!;
      expect(figures.delivery.bucketMinutes).toBe(5);
      expect(figures.delivery.points[0]).toEqual({ at: '2026-11-30T08:00', accepted: 3 });
      expect(figures.delivery.points.at(-1)).toEqual({ at: '2026-11-30T13:55', accepted: 1 });
      expect(figures.delivery.points).toHaveLength(72);
      expect(figures.delivery.points.reduce((sum, point) => sum + point.accepted, 0)).toBe(5);
      expect(figures.slowestDomains).toEqual([expect.objectContaining({ domain: 'example.org', readers: 5, sent: 5, attempts: 1, lastAcceptedMinutes: 360 })]);
    });
  });

  test('periods start on Monday', () => {
    expect(periodOf('2026-11-30', 'week')).toBe('2026-11-30');
    expect(periodOf('2026-12-06', 'week')).toBe('2026-11-30');
    expect(periodOf('2026-12-06', 'month')).toBe('2026-12');
  });
});
