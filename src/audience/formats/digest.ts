import { isStatus, statuses } from '../store.js';
import type { Format } from './format.js';
import { parseObject, parseTags } from './row.js';
import { quote } from '../quote.js';

/** The columns `digest subscribers export` writes, in order. */
export const digestColumns = ['email', 'name', 'status', 'tags', 'attributes', 'consent_source', 'consent_at', 'withdrawn_at', 'withdrawn_how'];

/**
 * digest's own export, which must import back unchanged: every column is taken as written, and a
 * blank cell means "none" (null), not "unknown". The free text (a name, how consent was given or
 * withdrawn) is read exactly, spaces, tabs and line breaks at either end included.
 */
export const digestFormat: Format = {
  name: 'digest',
  title: 'digest',
  emailColumns: ['email'],
  mapped: digestColumns.map((column) => column.replace(/_/g, ' ')),
  detect: (columns) => columns.has('email') && columns.has('consent source') && columns.has('withdrawn how'),
  map(row) {
    const status = row.get('status') || 'subscribed';
    if (!isStatus(status)) return { reject: `unknown status ${quote(status)} (expected ${statuses.join(', ')})` };
    const attributes = parseObject(row.get('attributes'), 'attributes');
    if (typeof attributes === 'string') return { reject: attributes };
    const orNull = (value: string | undefined) => (value ? value : null);
    return {
      email: '',
      name: orNull(row.exact('name')),
      status,
      tags: parseTags(row.get('tags')) ?? [],
      attributes: attributes ?? {},
      consentSource: orNull(row.exact('consent source')),
      consentAt: orNull(row.get('consent at')),
      withdrawnAt: orNull(row.get('withdrawn at')),
      withdrawnHow: orNull(row.exact('withdrawn how')),
    };
  },
};
