/** A share of a whole, or null when there is no whole to share (nothing sent yet). */
export function rate(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/**
 * The complaint rates Gmail's and Yahoo's sender guidelines publish for bulk senders (2024): stay
 * under 0.1%, and never reach 0.3%, past which mail is filtered or refused. Neither publishes a
 * bounce or unsubscribe limit, so none is drawn for those.
 */
export const COMPLAINT_THRESHOLDS = [
  { rate: 0.001, label: 'aim below 0.1%' },
  { rate: 0.003, label: 'Gmail and Yahoo limit 0.3%' },
] as const;

/** `0.42%`: two significant places, as a reader of rates expects. */
export function percent(value: number | null): string {
  if (value === null) return '–';
  const shown = value * 100;
  return `${shown === 0 ? '0' : shown < 1 ? shown.toFixed(2) : shown.toFixed(1)}%`;
}
