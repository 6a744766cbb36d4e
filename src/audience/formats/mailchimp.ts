import type { Status } from '../store.js';
import type { Format } from './format.js';
import { fullName, parseTags, parseTime } from './row.js';
import { quote } from '../quote.js';

// Mailchimp exports an audience as one CSV per status (subscribed_, unsubscribed_, cleaned_members_export…),
// with the same member columns; the unsubscribed file adds UNSUB_* columns and the cleaned one CLEAN_*.
const bookkeeping = [
  'member rating', 'optin time', 'optin ip', 'confirm time', 'confirm ip', 'latitude', 'longitude', 'gmtoff', 'dstoff',
  'timezone', 'cc', 'region', 'last changed', 'leid', 'euid', 'notes', 'tags',
  'unsub time', 'unsub campaign title', 'unsub campaign id', 'unsub reason', 'unsub reason other',
  'clean time', 'clean campaign title', 'clean campaign id', 'status',
];

/** A status column, as newer contact exports carry: pending (never confirmed) and transactional contacts never come in. */
const statusValues: Record<string, Status | { reject: string }> = {
  subscribed: 'subscribed',
  unsubscribed: 'unsubscribed',
  cleaned: 'bounced',
  archived: 'unsubscribed',
  pending: { reject: 'never confirmed the subscription (Mailchimp status pending)' },
  transactional: { reject: 'is a transactional contact who never subscribed (Mailchimp status transactional)' },
};

export const mailchimpFormat: Format = {
  name: 'mailchimp',
  title: 'Mailchimp',
  emailColumns: ['email address'],
  mapped: ['email address', 'first name', 'last name', ...bookkeeping],
  detect: (columns) => columns.has('email address') && ['member rating', 'leid', 'euid', 'optin time', 'last changed'].some((column) => columns.has(column)),
  map(row) {
    let status: Status = 'subscribed';
    let withdrawnAt: string | undefined;
    let withdrawnHow: string | undefined;
    const listed = row.get('status')?.toLowerCase();
    if (listed) {
      const known = statusValues[listed];
      if (known === undefined) return { reject: `unknown Mailchimp status ${quote(listed)}` };
      if (typeof known === 'object') return known;
      status = known;
      if (status !== 'subscribed') withdrawnHow = `mailchimp: ${listed}`;
    }
    // The per-status files say it with their columns: a row of the unsubscribed file is unsubscribed.
    if (row.get('unsub time') !== undefined) {
      status = 'unsubscribed';
      withdrawnAt = parseTime(row.get('unsub time'));
      const reason = row.first('unsub reason other', 'unsub reason');
      withdrawnHow = `mailchimp: unsubscribed${reason ? ` (${reason})` : ''}`;
    } else if (row.get('clean time') !== undefined) {
      status = 'bounced';
      withdrawnAt = parseTime(row.get('clean time'));
      withdrawnHow = 'mailchimp: cleaned';
    }
    const notes = row.get('notes');
    return {
      email: '',
      name: fullName(row.get('first name'), row.get('last name')),
      status,
      tags: parseTags(row.get('tags')),
      attributes: { ...row.rest(), ...(notes ? { notes } : {}) },
      consentSource: 'mailchimp',
      consentAt: parseTime(row.first('confirm time', 'optin time')),
      withdrawnAt,
      withdrawnHow,
    };
  },
};
