import { join } from 'node:path';
import { loadIssue } from '../../src/issue/load.js';
import { renderIssue, type Edition } from '../../src/render/index.js';
import { configFor, fixtures, tempProject } from '../helpers.js';

/** A newsletter of each language for the rtl samples in tests/fixtures/rtl/, as its editors would set it up. */
export const rtlConfigs = {
  ar: `name: نشرة وادي السدر
tagline: أخبار الوادي والساحل، صباح كل جمعة
language: ar
address: "شارع الميناء 14، المرسى"
baseUrl: https://wadi.example/news
`,
  he: `name: עלון עמק הארזים
tagline: חדשות מהעמק ומהחוף, בכל יום שישי
language: he
address: "רחוב הנמל 12, נווה חוף"
baseUrl: https://emek.example/news
`,
} as const;

export type RtlSample = keyof typeof rtlConfigs;

/** Builds tests/fixtures/rtl/<language>.md with its newsletter's config (a temp project, removed after the file). */
export async function buildRtlSample(language: RtlSample): Promise<Edition> {
  const root = tempProject({}, rtlConfigs[language]);
  return renderIssue(await loadIssue(join(fixtures, 'rtl', `${language}.md`)), await configFor(root));
}
