import { isStatus, type Subscriber } from '../store.js';
import type { SubscribersTable } from './schema.js';

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

export function rowValues(subscriber: Subscriber, key: string): WrittenRow {
  return [
    subscriber.email,
    key,
    subscriber.name,
    subscriber.status,
    JSON.stringify(subscriber.tags),
    // Most rows carry no attributes; '{}' without a call is one less thing per row of an import.
    isEmpty(subscriber.attributes) ? '{}' : JSON.stringify(subscriber.attributes),
    subscriber.international,
    subscriber.consentSource,
    subscriber.consentAt,
    subscriber.withdrawnAt,
    subscriber.withdrawnHow,
  ];
}

function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}
