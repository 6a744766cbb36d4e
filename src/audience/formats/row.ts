import { unguardCell } from '../formula.js';
import type { Attributes, SubscriberInput } from '../store.js';

/** What a format makes of one row: a subscriber, or the reason the row is refused. */
export type Mapped = SubscriberInput | { reject: string };

/** A row read by column name, as the header spells it after normalising (see columnKey). */
export interface Row {
  /** The trimmed cell, its formula guard removed; undefined when the file has no such column. */
  get(column: string): string | undefined;
  /**
   * The cell as written, its formula guard removed and nothing trimmed (the CSV reader trims only
   * outside quotes): for digest's own export, which quotes a name with a space at either end so
   * that it comes back as it was. Trimming after unguarding would lose the tab in a guarded `'\tAnn`.
   */
  exact(column: string): string | undefined;
  /** The first of these columns that the file has and that is not blank. */
  first(...columns: string[]): string | undefined;
  /** Non-empty cells of the columns the format does not map itself, under their header as written. */
  rest(): Attributes;
}

/** "Email Address", "email_address" and "EMAIL-ADDRESS" are one column: `email address`. */
export function columnKey(header: string): string {
  return header.replace(/^\ufeff/, '').trim().toLowerCase().replace(/[\s_-]+/g, ' ');
}

/** Binds a header once, so that each row is only an array lookup per column. */
export function rowReader(columns: string[], mapped: ReadonlySet<string>): (values: string[]) => Row {
  const index = new Map<string, number>();
  columns.forEach((column, at) => {
    const key = columnKey(column);
    if (!index.has(key)) index.set(key, at);
  });
  const extra = columns.map((column, at) => ({ column, at })).filter(({ column }) => column !== '' && !mapped.has(columnKey(column)));
  return (values) => new BoundRow(values, index, extra);
}

/** One object per row (not a closure per method): the import reads hundreds of thousands. */
class BoundRow implements Row {
  constructor(
    private readonly values: string[],
    private readonly index: ReadonlyMap<string, number>,
    private readonly extra: ReadonlyArray<{ column: string; at: number }>,
  ) {}

  get(column: string): string | undefined {
    return this.exact(column)?.trim();
  }

  exact(column: string): string | undefined {
    const at = this.index.get(column);
    return at === undefined ? undefined : unguardCell(this.values[at] ?? '');
  }

  first(...columns: string[]): string | undefined {
    for (const column of columns) {
      const value = this.get(column);
      if (value) return value;
    }
    return undefined;
  }

  rest(): Attributes {
    const attributes: Attributes = {};
    for (const { column, at } of this.extra) {
      const value = unguardCell(this.values[at] ?? '').trim();
      if (value !== '') attributes[column] = value;
    }
    return attributes;
  }
}

const truthy = new Set(['true', 't', 'yes', 'y', '1']);
const falsy = new Set(['false', 'f', 'no', 'n', '0']);

/** true, false, or undefined for a blank or unrecognised cell. */
export function parseBoolean(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  return truthy.has(lower) ? true : falsy.has(lower) ? false : undefined;
}

/** A service's timestamp as ISO 8601 UTC; a zone-less "2024-01-05 10:11:12" is read as UTC. Unreadable text is kept as written. */
export function parseTime(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const text = value.replace(/\s*UTC$/i, 'Z').replace(/^(\d{4}-\d\d-\d\d) /, '$1T');
  const zoned = /[zZ]$|[+-]\d\d(:?\d\d)?$/.test(text) ? text : `${text}Z`;
  const time = Date.parse(/^\d{4}-\d\d-\d\d/.test(text) ? zoned : value);
  return Number.isNaN(time) ? value : new Date(time).toISOString();
}

/** Cells read lately, and their tags: a list repeats a few cells over and over. */
const recentTags = new Map<string, string[]>();
const RECENT_TAGS = 256;

/**
 * Tags as services write them: a JSON array, or a list separated by commas (Mailchimp quotes each:
 * "a","b"). The same cell gives the same array, frozen, so that what is made of it (the merged
 * tags, their JSON) can be made once (see merge.ts, sql/rows.ts).
 */
export function parseTags(value: string | undefined): string[] | undefined {
  if (!value) return undefined;
  let tags = recentTags.get(value);
  if (!tags) {
    tags = Object.freeze(readTags(value)) as string[];
    if (recentTags.size >= RECENT_TAGS) recentTags.clear();
    recentTags.set(value, tags);
  }
  return tags;
}

function readTags(value: string): string[] {
  if (value.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (Array.isArray(parsed)) return parsed.map(String).map((tag) => tag.trim()).filter(Boolean);
    } catch {
      // not JSON after all: read it as a list
    }
  }
  // A loop rather than split/map/filter, and no split for a single tag: an import reads this cell on every row.
  if (!value.includes(',')) {
    let tag = value.trim();
    if (tag.startsWith('"')) tag = tag.replace(/^"(.*)"$/, '$1').trim();
    return tag ? [tag] : [];
  }
  const tags: string[] = [];
  for (const part of value.split(',')) {
    let tag = part.trim();
    if (tag.startsWith('"')) tag = tag.replace(/^"(.*)"$/, '$1').trim();
    if (tag) tags.push(tag);
  }
  return tags;
}

/** A JSON object cell (listmonk attributes, Buttondown metadata); undefined when blank, an error text when not an object. */
export function parseObject(value: string | undefined, what: string): Attributes | string | undefined {
  if (!value) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Attributes;
  } catch {
    // reported below
  }
  return `${what} is not a JSON object such as {"city": "Lyon"}`;
}

export function fullName(first: string | undefined, last: string | undefined): string | undefined {
  const name = [first, last].filter(Boolean).join(' ');
  return name || undefined;
}
