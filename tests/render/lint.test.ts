import { describe, expect, it } from 'vitest';
import { parseIssue } from '../../src/issue/load.js';
import { renderIssue } from '../../src/render/index.js';
import { configFor, sampleConfig, tempProject } from '../helpers.js';

const header = (extra = '') => `---\ntitle: A week in town\ndate: 2024-03-08\npreheader: The week in brief.\n${extra}---\n`;

async function findings(source: string, config = sampleConfig) {
  const root = tempProject({}, config);
  const edition = await renderIssue(parseIssue(source, 'x.md'), await configFor(root));
  return edition.diagnostics.map((d) => `${d.severity} ${d.code}${d.line ? `@${d.line}` : ''}`);
}

describe('lint rules', () => {
  it('finds nothing in a clean issue', async () => {
    expect(await findings(`${header()}Hello.\n\n## One\n\nText.\n`)).toEqual([]);
  });

  it('missing-alt: an image without alt text', async () => {
    expect(await findings(`${header()}Hello.\n\n![](https://x.org/a.png)\n`)).toEqual(['error missing-alt@8']);
  });

  it('empty-link: a link that goes nowhere or has no text', async () => {
    const found = await findings(`${header()}[here]() and [](https://x.org)\n`);
    expect(found.filter((f) => f.startsWith('error empty-link@6'))).toHaveLength(2);
  });

  it('insecure-link: http:// links and images', async () => {
    expect(await findings(`${header()}[old](http://x.org)\n\n::button[Go]{href="http://x.org/go"}\n`)).toEqual([
      'warning insecure-link@6',
      'warning insecure-link@8',
    ]);
  });

  it('long-subject: at the subject line', async () => {
    const subject = 'A subject line that goes on and on far past what any phone inbox will show';
    expect(await findings(`${header(`subject: ${subject}\n`)}Hello.\n`)).toEqual(['warning long-subject@5']);
  });

  it('missing-preheader: warns and quotes what inboxes will show instead', async () => {
    const found = await findings('---\ntitle: T\ndate: 2024-03-08\n---\nHello there.\n');
    expect(found).toEqual(['warning missing-preheader@1']);
  });

  it('missing-address: no postal address in the config', async () => {
    expect(await findings(`${header()}Hello.\n`, 'name: X\n')).toContain('error missing-address');
  });

  it('missing-unsubscribe: a template without the unsubscribe field', async () => {
    const root = tempProject({ 'templates/default/partials/footer.mjml.hbs': '<mj-section><mj-column><mj-text>Bye</mj-text></mj-column></mj-section>' });
    const edition = await renderIssue(parseIssue(`${header()}Hello.\n`, 'x.md'), await configFor(root));
    expect(edition.diagnostics.map((d) => d.code)).toEqual(['missing-unsubscribe']);
  });

  it('gmail-clip: warns near 102 KB and errs past it', async () => {
    const paragraph = `${'Lorem ipsum dolor sit amet, news of the valley. '.repeat(40)}\n\n`;
    expect(await findings(`${header()}${paragraph.repeat(38)}`)).toEqual(['warning gmail-clip']);
    expect(await findings(`${header()}${paragraph.repeat(46)}`)).toEqual(['error gmail-clip']);
  });

  it('heading-level: a # heading in the body competes with the title', async () => {
    expect(await findings(`${header()}Hello.\n\n# Big\n`)).toEqual(['warning heading-level@8']);
  });

  it('relative-image: a relative image without a baseUrl to resolve it against', async () => {
    const config = 'name: X\naddress: 1 Road\n';
    expect(await findings(`${header()}![A map](images/map.png)\n`, config)).toEqual(['error relative-image@6']);
    expect(await findings(`${header()}![A map](images/map.png)\n`)).toEqual([]);
  });

  it('unknown-merge-field: a typo in a field', async () => {
    expect(await findings(`${header()}Hi {{subscriber.frist_name}}.\n`)).toEqual(['error unknown-merge-field@6']);
  });
});
