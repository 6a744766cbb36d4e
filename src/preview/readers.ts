import type { Reader } from '../render/merge.js';

/** Sample readers for the preview, so the editor sees "Hi Alesia" rather than a placeholder. */
export interface SampleReader {
  label: string;
  subscriber: Reader['subscriber'];
}

export const sampleReaders: SampleReader[] = [
  { label: 'Alesia Moreno (sample)', subscriber: { name: 'Alesia Moreno', first_name: 'Alesia', email: 'alesia.moreno@example.org', attributes: { city: 'Millbrook' } } },
  { label: 'A reader with no name (sample)', subscriber: { email: 'reader@example.org', attributes: {} } },
];
