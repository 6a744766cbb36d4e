import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loadIssue } from '../../src/issue/load.js';
import { compileMjml, loadMjml, prepareMjml, releaseMjml } from '../../src/render/compile.js';
import { renderIssue } from '../../src/render/index.js';
import { repo } from '../helpers.js';

/** MJML that takes the paths the templates may: inlined styles (juice and cheerio), columns, a button, raw HTML. */
const inlined = `<mjml>
  <mj-head>
    <mj-style inline="inline">.lead { color: #123456; font-weight: bold; }</mj-style>
    <mj-style>@media (prefers-color-scheme: dark) { .dark { color: #fff !important; } }</mj-style>
  </mj-head>
  <mj-body>
    <mj-section><mj-column><mj-text><p class="lead">Lead</p></mj-text></mj-column><mj-column><mj-button href="https://example.org">Go</mj-button></mj-column></mj-section>
    <mj-raw><!-- kept? --></mj-raw>
  </mj-body>
</mjml>`;

describe('the MJML worker', () => {
  afterAll(() => releaseMjml());

  it('gives the same HTML as mjml loaded whole in this thread, for the sample issues and inlined styles', async () => {
    const config = await loadConfig({ cwd: repo });
    const issues = readdirSync(join(repo, 'issues')).filter((name) => name.endsWith('.md'));
    const sources = [inlined];
    // Rendered before the worker starts, so that their MJML is composed but compiled here.
    for (const name of issues) sources.push((await renderIssue(await loadIssue(join(repo, 'issues', name)), config)).mjml);
    expect(sources.length).toBeGreaterThan(2);

    const options = { validationLevel: 'soft', keepComments: false, fonts: {} };
    const whole = await Promise.all(sources.map(async (mjml) => (await loadMjml()(mjml, options)).html));
    prepareMjml();
    const worker = await Promise.all(sources.map(async (mjml) => (await compileMjml(mjml, 'default', 'x.md')).html));
    expect(worker).toEqual(whole);
    expect(worker[0]).toMatch(/<p class="lead" style="color: ?#123456; ?font-weight: ?bold;?">/);
  });
});
