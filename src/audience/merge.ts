import type { MergeOptions, Status, Subscriber, SubscriberInput } from './store.js';

export interface Merged {
  record: Subscriber;
  outcome: 'imported' | 'updated' | 'unchanged';
}

/**
 * How an incoming subscriber (a file row, an `add`) meets the stored one. The rules, in order of
 * importance:
 * - an unsubscribe, bounce or complaint on file is never undone by an incoming `subscribed` unless
 *   `resubscribe` is given, which only the owner's own confirmed sign-up does (src/signup/ledger.ts):
 *   re-importing an old export must not mail someone who left;
 * - an incoming withdrawal always wins over a stored `subscribed`;
 * - blank incoming values never erase stored ones (only `remove` erases); tags are added, attributes
 *   merged key by key.
 * The same function decides new and existing subscribers, so import and `add` cannot disagree.
 */
export function mergeSubscriber(
  existing: Subscriber | undefined,
  incoming: SubscriberInput & { international: boolean },
  options: MergeOptions,
): Merged {
  const now = options.now ?? new Date().toISOString();
  const source = options.source ?? 'digest';
  const extraTags = options.tags ?? [];

  if (!existing) {
    const status = incoming.status ?? 'subscribed';
    const withdrawn = status !== 'subscribed';
    return {
      outcome: 'imported',
      record: {
        email: incoming.email,
        name: blankToNull(incoming.name),
        status,
        tags: newTags(incoming.tags, extraTags),
        attributes: incoming.attributes ?? {},
        international: incoming.international,
        consentSource: given(incoming.consentSource, source),
        consentAt: given(incoming.consentAt, withdrawn ? null : now),
        withdrawnAt: withdrawn ? given(incoming.withdrawnAt, now) : null,
        withdrawnHow: withdrawn ? given(incoming.withdrawnHow, `${source}: ${status}`) : null,
      },
    };
  }

  const record: Subscriber = {
    ...existing,
    name: blankToNull(incoming.name) ?? existing.name,
    tags: unique([...existing.tags, ...(incoming.tags ?? []), ...extraTags]),
    attributes: { ...existing.attributes, ...(incoming.attributes ?? {}) },
  };
  const wanted: Status | undefined = incoming.status;
  if (wanted === 'subscribed' && existing.status !== 'subscribed' && options.resubscribe) {
    record.status = 'subscribed';
    record.consentSource = given(incoming.consentSource, source) ?? source;
    record.consentAt = given(incoming.consentAt, now) ?? now;
    record.withdrawnAt = null;
    record.withdrawnHow = null;
  } else if (wanted !== undefined && wanted !== 'subscribed' && wanted !== existing.status) {
    record.status = wanted;
    record.withdrawnAt = given(incoming.withdrawnAt, existing.withdrawnAt ?? now);
    record.withdrawnHow = given(incoming.withdrawnHow, `${source}: ${wanted}`);
  }
  if (record.consentSource === null && incoming.consentSource) record.consentSource = incoming.consentSource;
  if (record.consentAt === null && incoming.consentAt && record.status === 'subscribed') record.consentAt = incoming.consentAt;

  return { record, outcome: sameSubscriber(existing, record) ? 'unchanged' : 'updated' };
}

/** `undefined` means the input said nothing (use the default); null or '' means it said "none". */
function given<T>(value: T | null | undefined, fallback: T | null): T | null {
  if (value === undefined) return fallback;
  return value === '' ? null : value;
}

function blankToNull(value: string | null | undefined): string | null {
  return value === undefined || value === null || value.trim() === '' ? null : value;
}

const noTags: string[] = Object.freeze([]) as unknown as string[];
/** The tags made of a frozen array of incoming tags (parseTags gives the same one for the same cell). */
const tagsMadeOf = new WeakMap<string[], string[]>();

/** A new subscriber's tags: made once for each frozen array of incoming tags when nothing is added. */
function newTags(incoming: string[] | undefined, extra: string[]): string[] {
  if (extra.length > 0) return unique([...(incoming ?? []), ...extra]);
  if (!incoming) return noTags;
  if (!Object.isFrozen(incoming)) return unique(incoming);
  let tags = tagsMadeOf.get(incoming);
  if (!tags) {
    tags = Object.freeze(unique(incoming)) as string[];
    tagsMadeOf.set(incoming, tags);
  }
  return tags;
}

/** Trimmed, blanks dropped, each once in first-seen order. A loop for the usual handful, as it runs for every imported row. */
function unique(tags: string[]): string[] {
  if (tags.length > 16) return [...new Set(tags.map((tag) => tag.trim()).filter(Boolean))];
  const kept: string[] = [];
  for (const raw of tags) {
    const tag = raw.trim();
    if (tag && !kept.includes(tag)) kept.push(tag);
  }
  return kept;
}

export function sameSubscriber(a: Subscriber, b: Subscriber): boolean {
  return (
    a.email === b.email &&
    a.name === b.name &&
    a.status === b.status &&
    a.international === b.international &&
    a.consentSource === b.consentSource &&
    a.consentAt === b.consentAt &&
    a.withdrawnAt === b.withdrawnAt &&
    a.withdrawnHow === b.withdrawnHow &&
    JSON.stringify(a.tags) === JSON.stringify(b.tags) &&
    stableJson(a.attributes) === stableJson(b.attributes)
  );
}

/** JSON with keys sorted, so that {a,b} and {b,a} compare equal. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}
