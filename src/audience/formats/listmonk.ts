import type { Status } from '../store.js';
import type { Format } from './format.js';
import { parseObject, parseTime } from './row.js';
import { quote } from '../quote.js';

// listmonk's subscriber export (uuid, email, name, attributes, status, created_at, updated_at) and its
// import format (email, name, attributes). Blocklisted subscribers must never be mailed again.
const values: Record<string, Status> = {
  enabled: 'subscribed',
  blocklisted: 'unsubscribed',
  disabled: 'unsubscribed',
};

export const listmonkFormat: Format = {
  name: 'listmonk',
  title: 'listmonk',
  emailColumns: ['email'],
  mapped: ['uuid', 'email', 'name', 'attributes', 'status', 'created at', 'updated at'],
  detect: (columns) => columns.has('email') && columns.has('attributes') && (columns.has('uuid') || columns.has('name')),
  map(row) {
    const listed = (row.get('status') || 'enabled').toLowerCase();
    const status = values[listed];
    if (status === undefined) return { reject: `unknown listmonk status ${quote(listed)}` };
    const attributes = parseObject(row.get('attributes'), 'attributes');
    if (typeof attributes === 'string') return { reject: attributes };
    return {
      email: '',
      name: row.get('name'),
      status,
      attributes: { ...row.rest(), ...(attributes ?? {}) },
      consentSource: 'listmonk',
      consentAt: parseTime(row.get('created at')),
      withdrawnHow: status === 'subscribed' ? undefined : `listmonk: ${listed}`,
    };
  },
};
