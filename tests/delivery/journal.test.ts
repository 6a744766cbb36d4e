import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/delivery/journal.js';
import { onEachDatabase, storeOpener } from '../audience/databases.js';

/** The keys a claim took; which of them comes first in its result is not part of the contract. */
const keys = (entries: { key: string }[]) => entries.map((entry) => entry.key).sort();

onEachDatabase((target) => {
  describe('the journal’s claims', () => {
    const open = storeOpener(target);

    it('take pending readers in key order, then readers deferred by an earlier run, each once', async () => {
      const store = await open();
      const journal = new Journal(store.dialect);
      const readers = ['d', 'b', 'e', 'a', 'c'].map((name) => ({ email: `${name}@example.org`, key: `${name}@example.org`, name: null, attributes: {} }));
      await journal.enqueue('week', readers, new Date('2026-01-01T00:00:00Z'));
      // An earlier run left c deferred.
      const earlier = await journal.claim('week', 5, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:01Z'));
      expect(keys(earlier)).toEqual(['a', 'b', 'c', 'd', 'e'].map((name) => `${name}@example.org`));
      await journal.markSending('week', 'c@example.org', undefined, new Date('2026-01-01T00:00:02Z'));
      await journal.settle('week', 'c@example.org', 'deferred', { reply: '451 try later' }, new Date('2026-01-01T00:00:03Z'));
      await journal.release('week', ['a', 'b', 'd', 'e'].map((name) => `${name}@example.org`));

      const run = new Journal(store.dialect);
      const started = new Date('2026-01-02T00:00:00Z');
      const first = await run.claim('week', 3, started, started);
      const second = await run.claim('week', 3, started, started);
      const third = await run.claim('week', 3, started, started);
      expect(keys(first)).toEqual(['a@example.org', 'b@example.org', 'd@example.org']);
      expect(keys(second)).toEqual(['c@example.org', 'e@example.org']);
      expect(third).toEqual([]);
    });
  });
});
