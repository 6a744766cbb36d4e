/**
 * Spreadsheets run a cell that begins with = + - @ (or a tab or carriage return before one) as a
 * formula: an exported list opened in Excel must not execute `=HYPERLINK(…)` typed into a name
 * field (CSV injection, OWASP). Export puts an apostrophe in front, which spreadsheets show as text,
 * and import takes exactly one off again, so an export imports back unchanged: provided nothing is
 * trimmed after, since the guard is what kept a leading tab or carriage return from the trim (see
 * Row.exact, which digest's own format reads its names with).
 */
const risky = /^'*[=+\-@\t\r]/;

export function guardCell(value: string): string {
  return risky.test(value) ? `'${value}` : value;
}

export function unguardCell(value: string): string {
  return value.startsWith("'") && risky.test(value) ? value.slice(1) : value;
}
