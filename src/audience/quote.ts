/** Characters of a value shown in a message before it is cut short. */
const SHOWN = 60;

/**
 * A value from a user's file, quoted for a message about it: in JSON's string syntax (so control
 * characters show as escapes) and cut short past SHOWN characters, with its length, since a
 * malformed file can put megabytes into one cell.
 */
export function quote(value: string, max = SHOWN): string {
  if (value.length <= max) return JSON.stringify(value);
  // Not half of a surrogate pair.
  const end = /[\ud800-\udbff]/.test(value[max - 1]!) ? max - 1 : max;
  return `${JSON.stringify(`${value.slice(0, end)}…`)} (${value.length.toLocaleString('en')} characters)`;
}
