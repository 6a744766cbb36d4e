import { isStatus, type Subscriber } from '../store.js';
import type { SubscribersTable } from '../../db/schema.js';

export function subscriberFromRow(row: SubscribersTable): Subscriber {
  if (!isStatus(row.status)) throw new Error(`subscriber ${row.email} has an unknown status "${row.status}" in the database`);
  return {
    email: row.email,
    name: row.name,
    status: row.status,
    tags: JSON.parse(row.tags) as string[],
    attributes: JSON.parse(row.attributes) as Record<string, unknown>,
    international: Boolean(row.international),
    consentSource: row.consent_source,
    consentAt: row.consent_at,
    withdrawnAt: row.withdrawn_at,
    withdrawnHow: row.withdrawn_how,
  };
}

/** The columns a write sets, in one order shared by both dialects' bulk statements. */
export const writtenColumns = [
  'email',
  'email_key',
  'name',
  'status',
  'tags',
  'attributes',
  'international',
  'consent_source',
  'consent_at',
  'withdrawn_at',
  'withdrawn_how',
] as const;

export type WrittenRow = [string, string, string | null, string, string, string, boolean, string | null, string | null, string | null, string | null];

/**
 * Where the values that most rows of one import share sit in a WrittenRow: status, attributes,
 * international, consent and withdrawal. Rows mostly differ only in address, name and tags, so the
 * bulk writers make the shared part once for a run of rows (sqlite-insert.ts, row-transfer.ts, the
 * COPY text in postgres.ts).
 */
export const sharedValues = [3, 5, 6, 7, 8, 9, 10] as const;
/** The rest, each row's own: address, key, name and tags. */
export const ownValues = [0, 1, 2, 4] as const;

/** Whether two rows agree on sharedValues; spelt out, as it runs for every row of an import. */
export function sameSharedValues(a: WrittenRow, b: WrittenRow): boolean {
  return a[3] === b[3] && a[5] === b[5] && a[6] === b[6] && a[7] === b[7] && a[8] === b[8] && a[9] === b[9] && a[10] === b[10];
}

export function rowValues(subscriber: Subscriber, key: string): WrittenRow {
  return [
    subscriber.email,
    key,
    subscriber.name,
    subscriber.status,
    tagsJson(subscriber.tags),
    // Most rows carry no attributes; '{}' without a call is one less thing per row of an import.
    isEmpty(subscriber.attributes) ? '{}' : JSON.stringify(subscriber.attributes),
    subscriber.international,
    subscriber.consentSource,
    subscriber.consentAt,
    subscriber.withdrawnAt,
    subscriber.withdrawnHow,
  ];
}

/** The JSON of frozen tag arrays, which many subscribers of an import share (see parseTags). */
const jsonOfTags = new WeakMap<string[], string>();

function tagsJson(tags: string[]): string {
  if (!Object.isFrozen(tags)) return JSON.stringify(tags);
  let json = jsonOfTags.get(tags);
  if (json === undefined) {
    json = JSON.stringify(tags);
    jsonOfTags.set(tags, json);
  }
  return json;
}

function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}
