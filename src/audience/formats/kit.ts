import type { Status } from '../store.js';
import type { Format } from './format.js';
import { fullName, parseTags, parseTime } from './row.js';
import { quote } from '../quote.js';

// Kit (formerly ConvertKit) subscriber exports: first_name, email (email_address), state or status,
// created_at, tags, then one column per custom field.
const states: Record<string, Status | { reject: string }> = {
  active: 'subscribed',
  // Cold subscribers have stopped opening, but have not left.
  cold: 'subscribed',
  cancelled: 'unsubscribed',
  canceled: 'unsubscribed',
  unsubscribed: 'unsubscribed',
  bounced: 'bounced',
  complained: 'complained',
  inactive: { reject: 'never confirmed the subscription (Kit state inactive)' },
  unconfirmed: { reject: 'never confirmed the subscription (Kit state unconfirmed)' },
};

export const kitFormat: Format = {
  name: 'kit',
  title: 'Kit (ConvertKit)',
  emailColumns: ['email address', 'email'],
  mapped: ['id', 'first name', 'last name', 'email address', 'email', 'state', 'status', 'created at', 'tags'],
  detect: (columns) => columns.has('first name') && (columns.has('email address') || columns.has('email')) && (columns.has('state') || columns.has('status')),
  map(row) {
    const state = (row.first('state', 'status') ?? 'active').toLowerCase();
    const status = states[state];
    if (status === undefined) return { reject: `unknown Kit state ${quote(state)}` };
    if (typeof status === 'object') return status;
    return {
      email: '',
      name: fullName(row.get('first name'), row.get('last name')),
      status,
      tags: parseTags(row.get('tags')),
      attributes: row.rest(),
      consentSource: 'kit',
      consentAt: parseTime(row.get('created at')),
      withdrawnHow: status === 'subscribed' ? undefined : `kit: ${state}`,
    };
  },
};
