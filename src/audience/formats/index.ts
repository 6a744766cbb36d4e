import { UserError } from '../../errors.js';
import { buttondownFormat } from './buttondown.js';
import { digestFormat } from './digest.js';
import type { Format, FormatName } from './format.js';
import { genericFormat } from './generic.js';
import { ghostFormat } from './ghost.js';
import { kitFormat } from './kit.js';
import { listmonkFormat } from './listmonk.js';
import { mailchimpFormat } from './mailchimp.js';
import { columnKey, rowReader, type Mapped } from './row.js';
import { substackFormat } from './substack.js';
import { quote } from '../quote.js';

export { formatNames, type Format, type FormatName } from './format.js';

/** In the order detection tries them: the most particular headers first, the plain CSV last. */
export const formats: Format[] = [digestFormat, listmonkFormat, mailchimpFormat, substackFormat, ghostFormat, buttondownFormat, kitFormat, genericFormat];

export interface BoundFormat {
  format: Format;
  /** A data row as a subscriber (its address not yet checked), or the reason it is refused. */
  read(values: string[]): Mapped;
}

/** Picks the format from the header row (or takes the one asked for) and binds it to the columns. */
export function bindFormat(columns: string[], chosen: FormatName | 'auto', file: string): BoundFormat {
  const keys = new Set(columns.map(columnKey));
  const format = chosen === 'auto' ? formats.find((candidate) => candidate.detect(keys)) : formats.find((candidate) => candidate.name === chosen);
  const emailColumn = format?.emailColumns.find((column) => keys.has(column));
  if (!format || !emailColumn) {
    const header = `${columns.slice(0, 12).map((column) => quote(column)).join(', ')}${columns.length > 12 ? `, … (${columns.length} columns)` : ''}`;
    const expected = (format ?? genericFormat).emailColumns.slice(0, 3).join('", "');
    const hint = columns.some((column) => column.includes('@'))
      ? ': the first row looks like an address, so add a header row such as "email" above it'
      : ` (looked for "${expected}"; the header row is ${header})`;
    throw new UserError(`has no email column${format && chosen !== 'auto' ? ` for the ${format.title} format` : ''}${hint}`, { file, line: 1, code: 'no-email-column' });
  }
  const reader = rowReader(columns, new Set(format.mapped));
  const emailHeader = columns.find((column) => columnKey(column) === emailColumn);
  return {
    format,
    read(values) {
      const row = reader(values);
      const email = row.get(emailColumn);
      if (!email) return { reject: `has no address in the "${emailHeader}" column` };
      const mapped = format.map(row);
      if (!('reject' in mapped)) mapped.email = email;
      return mapped;
    },
  };
}
