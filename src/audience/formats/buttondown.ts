import type { Status } from '../store.js';
import type { Format } from './format.js';
import { parseObject, parseTags, parseTime } from './row.js';
import { quote } from '../quote.js';

// Buttondown's subscriber export: email (email_address in newer ones), creation_date, notes, metadata
// (JSON), tags, secondary_id, subscriber_type (type), source, referrer_url, utm_* columns.
const types: Record<string, Status | { reject: string }> = {
  regular: 'subscribed',
  premium: 'subscribed',
  gifted: 'subscribed',
  trialed: 'subscribed',
  churning: 'subscribed',
  past_due: 'subscribed',
  paused: 'subscribed',
  // A paying subscription ended; the free subscription goes on.
  churned: 'subscribed',
  unpaid: 'subscribed',
  unsubscribed: 'unsubscribed',
  removed: 'unsubscribed',
  blocked: 'unsubscribed',
  undeliverable: 'bounced',
  complained: 'complained',
  spammy: 'complained',
  unactivated: { reject: 'never confirmed the subscription (Buttondown type unactivated)' },
};

export const buttondownFormat: Format = {
  name: 'buttondown',
  title: 'Buttondown',
  emailColumns: ['email', 'email address'],
  mapped: ['id', 'email', 'email address', 'creation date', 'notes', 'metadata', 'tags', 'subscriber type', 'type', 'unsubscription date'],
  detect: (columns) =>
    (columns.has('email') || columns.has('email address')) &&
    (columns.has('subscriber type') || columns.has('secondary id') || (columns.has('type') && columns.has('creation date'))),
  map(row) {
    const type = (row.first('subscriber type', 'type') ?? 'regular').toLowerCase();
    const status = types[type];
    if (status === undefined) return { reject: `unknown Buttondown subscriber type ${quote(type)}` };
    if (typeof status === 'object') return status;
    const metadata = parseObject(row.get('metadata'), 'metadata');
    if (typeof metadata === 'string') return { reject: metadata };
    const notes = row.get('notes');
    return {
      email: '',
      status,
      tags: parseTags(row.get('tags')),
      attributes: { ...row.rest(), ...(metadata ?? {}), ...(notes ? { notes } : {}) },
      consentSource: 'buttondown',
      consentAt: parseTime(row.get('creation date')),
      withdrawnAt: status === 'subscribed' ? undefined : parseTime(row.get('unsubscription date')),
      withdrawnHow: status === 'subscribed' ? undefined : `buttondown: ${type}`,
    };
  },
};
