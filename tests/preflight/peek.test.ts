import { it } from 'vitest';
import { checkA11y } from '../../src/preflight/a11y.js';
import { contextFor, sampleIssueText } from './context.js';
it('peek', async () => {
  const ctx = await contextFor(sampleIssueText);
  const t = Date.now(); const r = await checkA11y(ctx); console.log(Date.now() - t, JSON.stringify(r, null, 1));
});
