import { checkAddress } from './address.js';
import { openCsv } from './csv.js';
import { bindFormat } from './formats/index.js';
import type { Rejection } from './import.js';
import { mergeSubscriber } from './merge.js';
import { emptyCounts, type Counts, type ListFilter, type Subscriber, type SubscriberSource } from './store.js';

/**
 * A CSV file used directly as the list (`digest send --to list.csv`): read row by row on every
 * pass, never loaded whole, in any format import understands. Rows that cannot be mailed are
 * skipped and handed to `onReject`, so a sender can report them.
 *
 * Unlike a database it does not merge an address that appears twice: the send journal, keyed by
 * address, is what keeps one person from getting two copies.
 */
export class CsvList implements SubscriberSource {
  constructor(
    private readonly file: string,
    private readonly onReject: (rejection: Rejection) => void = () => {},
  ) {}

  async *list(filter: ListFilter = {}): AsyncIterable<Subscriber> {
    const csv = await openCsv(this.file);
    const bound = bindFormat(csv.columns, 'auto', this.file);
    const options = { source: `list:${bound.format.name}`, now: new Date().toISOString() };
    for await (const row of csv.rows) {
      if ('error' in row) {
        this.onReject({ line: row.line, reason: row.error });
        continue;
      }
      const mapped = bound.read(row.values);
      if ('reject' in mapped) {
        this.onReject({ line: row.line, reason: mapped.reject });
        continue;
      }
      const check = checkAddress(mapped.email);
      if (!check.ok) {
        this.onReject({ line: row.line, reason: check.reason });
        continue;
      }
      const { record } = mergeSubscriber(undefined, { ...mapped, email: check.address, international: check.international }, options);
      if (filter.status && record.status !== filter.status) continue;
      if (filter.tag !== undefined && !record.tags.includes(filter.tag)) continue;
      yield record;
    }
  }

  async count(filter: Pick<ListFilter, 'tag'> = {}): Promise<Counts> {
    const counts = emptyCounts();
    for await (const subscriber of this.list(filter)) {
      counts.total++;
      counts[subscriber.status]++;
    }
    return counts;
  }

  async close(): Promise<void> {}
}
