import type { Format } from './format.js';
import { parseBoolean, parseTags, parseTime } from './row.js';

// Ghost's members export: id, email, name, note, subscribed_to_emails, complimentary_plan,
// stripe_customer_id, created_at, deleted_at, labels, tiers.
export const ghostFormat: Format = {
  name: 'ghost',
  title: 'Ghost',
  emailColumns: ['email'],
  mapped: ['id', 'email', 'name', 'note', 'subscribed to emails', 'subscribed', 'stripe customer id', 'created at', 'deleted at', 'labels'],
  detect: (columns) => columns.has('email') && (columns.has('subscribed to emails') || (columns.has('labels') && columns.has('complimentary plan'))),
  map(row) {
    const subscribed = parseBoolean(row.first('subscribed to emails', 'subscribed'));
    const deleted = row.get('deleted at');
    const withdrawn = deleted ? 'ghost: member deleted' : subscribed === false ? 'ghost: not subscribed to emails' : undefined;
    const note = row.get('note');
    return {
      email: '',
      name: row.get('name'),
      status: withdrawn ? 'unsubscribed' : 'subscribed',
      tags: parseTags(row.get('labels')),
      attributes: { ...row.rest(), ...(note ? { note } : {}) },
      consentSource: 'ghost',
      consentAt: parseTime(row.get('created at')),
      withdrawnAt: deleted ? parseTime(deleted) : undefined,
      withdrawnHow: withdrawn,
    };
  },
};
