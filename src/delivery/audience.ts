import { emailKey } from '../audience/key.js';
import type { Subscriber, SubscriberSource, SubscriberStore } from '../audience/store.js';
import type { Edition } from '../render/index.js';
import { Journal } from './journal.js';

/** Where a send's readers come from. */
export interface AudienceSource {
  edition: Edition;
  /** The database: suppressions, and the list itself unless `list` is given. */
  store: SubscriberStore;
  /** A CSV list to send to instead of the database's subscribers. */
  list?: SubscriberSource;
}

/** What a send would do, worked out without writing anything: for --dry-run, which lists every reader. */
export interface SendPlan {
  issue: string;
  toSend: string[];
  alreadyDone: number;
  excluded: number;
}

/** The readers a list holds for an issue: subscribed, not suppressed in the database, in its audience. */
export async function* audience(options: AudienceSource): AsyncGenerator<{ readers: Subscriber[]; excluded: number }> {
  const tags = options.edition.meta.audience;
  const source: SubscriberSource = options.list ?? options.store;
  let chunk: Subscriber[] = [];
  const settle = async () => {
    const suppressed = await options.store.suppressed(chunk.map((reader) => reader.email));
    const readers = chunk.filter(
      (reader) =>
        reader.status === 'subscribed' && !suppressed.has(emailKey(reader.email)) && (tags.length === 0 || reader.tags.some((tag) => tags.includes(tag))),
    );
    const result = { readers, excluded: chunk.length - readers.length };
    chunk = [];
    return result;
  };
  // A database list is read already filtered; a CSV list is read whole and checked against the database.
  for await (const reader of source.list(options.list ? {} : { status: 'subscribed' })) {
    chunk.push(reader);
    if (chunk.length === 1000) yield await settle();
  }
  if (chunk.length) yield await settle();
}

export async function planSend(options: AudienceSource): Promise<SendPlan> {
  const journal = new Journal(options.store.dialect);
  const issue = options.edition.meta.slug;
  const plan: SendPlan = { issue, toSend: [], alreadyDone: 0, excluded: 0 };
  const seen = new Set<string>();
  for await (const { readers, excluded } of audience(options)) {
    plan.excluded += excluded;
    const states = await journal.statesOf(issue, readers.map((reader) => emailKey(reader.email)));
    for (const reader of readers) {
      const key = emailKey(reader.email);
      if (seen.has(key)) continue;
      seen.add(key);
      const state = states.get(key);
      if (state && state !== 'pending' && state !== 'deferred') plan.alreadyDone++;
      else plan.toSend.push(reader.email);
    }
  }
  return plan;
}

