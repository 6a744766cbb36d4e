import type { Mapped, Row } from './row.js';

export const formatNames = ['digest', 'mailchimp', 'substack', 'ghost', 'buttondown', 'kit', 'listmonk', 'csv'] as const;
export type FormatName = (typeof formatNames)[number];

/**
 * One kind of list file: how to recognise its header row and how its columns and status values
 * map onto a subscriber. A status the format does not know is refused, never read as subscribed.
 */
export interface Format {
  name: FormatName;
  /** For messages: "Mailchimp". */
  title: string;
  /** Column keys (see columnKey) that may hold the address, in order of preference. */
  emailColumns: string[];
  /** Column keys the format maps itself; every other non-empty cell becomes an attribute. */
  mapped: string[];
  /** Whether a header (as column keys) is this format's. */
  detect(columns: ReadonlySet<string>): boolean;
  /** The row as a subscriber; the address is read by the caller from emailColumns. */
  map(row: Row): Mapped;
}
