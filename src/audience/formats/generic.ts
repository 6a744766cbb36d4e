import type { Status } from '../store.js';
import type { Format } from './format.js';
import { fullName, parseTags } from './row.js';
import { quote } from '../quote.js';

/** The address columns a hand-made spreadsheet is likely to have. */
export const genericEmailColumns = ['email', 'email address', 'e mail', 'e mail address', 'emailaddress', 'mail'];

const values: Record<string, Status> = {
  subscribed: 'subscribed', active: 'subscribed', confirmed: 'subscribed', yes: 'subscribed', true: 'subscribed', '1': 'subscribed',
  unsubscribed: 'unsubscribed', 'opted out': 'unsubscribed', cancelled: 'unsubscribed', no: 'unsubscribed', false: 'unsubscribed', '0': 'unsubscribed',
  bounced: 'bounced', cleaned: 'bounced', undeliverable: 'bounced',
  complained: 'complained', spam: 'complained',
};

/** Any other CSV with an address column: a spreadsheet, another service. */
export const genericFormat: Format = {
  name: 'csv',
  title: 'plain CSV',
  emailColumns: genericEmailColumns,
  mapped: [...genericEmailColumns, 'name', 'full name', 'first name', 'last name', 'tags', 'labels', 'status', 'subscribed'],
  detect: (columns) => genericEmailColumns.some((column) => columns.has(column)),
  map(row) {
    const listed = row.first('status', 'subscribed')?.toLowerCase();
    const status = listed === undefined ? 'subscribed' : values[listed];
    if (status === undefined) return { reject: `unknown status ${quote(listed ?? "")} (expected subscribed, unsubscribed, bounced or complained)` };
    return {
      email: '',
      name: row.first('name', 'full name') ?? fullName(row.get('first name'), row.get('last name')),
      status,
      tags: parseTags(row.first('tags', 'labels')),
      attributes: row.rest(),
      withdrawnHow: status === 'subscribed' ? undefined : `csv: ${listed}`,
    };
  },
};
