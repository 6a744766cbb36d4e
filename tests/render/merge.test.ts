import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { checkMergeFields, compileMerge, compileSplice, unescapeMergeFields } from '../../src/render/merge.js';
import { loadIssue } from '../../src/issue/load.js';
import { renderIssue } from '../../src/render/index.js';
import { configFor, fixtures, tempProject } from '../helpers.js';

describe('merge fields', () => {
  it('fills a reader in, escaping whatever the subscriber record holds', () => {
    const merge = compileMerge('<p>Hi {{default subscriber.first_name "there"}}</p><a href="{{unsubscribe_url}}">x</a>');
    const html = merge({ subscriber: { first_name: '<img src=x onerror=alert(1)>' }, unsubscribe_url: 'https://x.org/u?t=a&b' });
    expect(html).toBe('<p>Hi &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;</p><a href="https://x.org/u?t&#x3D;a&amp;b">x</a>');
  });

  it('fills the text part and the subject without HTML escaping', () => {
    const merge = compileMerge('Dear {{subscriber.name}} & co', 'text');
    expect(merge({ subscriber: { name: "Siobhán O'Brien <s@x.org>" }, unsubscribe_url: '' })).toBe("Dear Siobhán O'Brien <s@x.org> & co");
  });

  it('falls back when a field is missing or blank', () => {
    const merge = compileMerge('Hi {{default subscriber.first_name "there"}}');
    expect(merge({ subscriber: {}, unsubscribe_url: '' })).toBe('Hi there');
    expect(merge({ subscriber: { first_name: '  ' }, unsubscribe_url: '' })).toBe('Hi there');
  });

  it('does not evaluate braces that a subscriber value contains', () => {
    const merge = compileMerge('{{subscriber.name}}');
    expect(merge({ subscriber: { name: '{{unsubscribe_url}}' }, unsubscribe_url: 'SECRET' })).toBe('{{unsubscribe_url}}');
  });

  it('flags an unknown field at its line in the file', () => {
    const found = checkMergeFields('Hello\n\nDear {{subscriber.nmae}},', 'x.md', 10);
    expect(found).toEqual([expect.objectContaining({ code: 'unknown-merge-field', line: 12, severity: 'error' })]);
    expect(found[0]!.message).toContain('"subscriber.nmae"');
  });

  it('checks the arguments of helpers and block helpers', () => {
    expect(checkMergeFields('{{default subscriber.frist "x"}}', 'x.md', 1)).toHaveLength(1);
    expect(checkMergeFields('{{#if subscriber.name}}a{{else}}{{subscriber.emial}}{{/if}}', 'x.md', 1)).toHaveLength(1);
    expect(checkMergeFields('{{shout subscriber.name}}', 'x.md', 1)[0]!.message).toContain('unknown merge helper "shout"');
    expect(checkMergeFields('{{subscriber.attributes.city}} {{#unless subscriber.name}}friend{{/unless}}', 'x.md', 1)).toEqual([]);
  });

  it('reports malformed braces as a syntax error', () => {
    expect(checkMergeFields('a\n{{subscriber.name', 'x.md', 5)[0]).toMatchObject({ code: 'merge-syntax', line: 6 });
  });

  it('restores quotes that HTML escaping put inside a field, and only there', () => {
    expect(unescapeMergeFields('&quot;a&quot; {{default subscriber.name &quot;x&quot;}}')).toBe('&quot;a&quot; {{default subscriber.name "x"}}');
  });

  it('splices each reader into shared bytes exactly as a whole merge would fill them', async () => {
    const edition = await renderIssue(await loadIssue(join(fixtures, 'issues', 'complete.md')), await configFor(tempProject()));
    const readers = [
      { subscriber: { name: 'Zoë <Z> Ørsted', first_name: 'Zoë', email: 'z@example.org', attributes: {} }, unsubscribe_url: 'https://x.org/u/1?a=b&c' },
      { subscriber: {}, unsubscribe_url: 'https://x.org/u/2' },
    ];
    const template = `${edition.html}\n{{#if subscriber.name}}Dear {{subscriber.name}},\n{{else}}Hello,{{/if}} \\{{literal}} {{!-- a note --}}é`;
    for (const reader of readers) {
      expect(compileSplice(template)(reader).toString('utf8')).toBe(compileMerge(template)(reader));
      expect(compileSplice(edition.text, 'text')(reader).toString('utf8')).toBe(compileMerge(edition.text, 'text')(reader));
    }
  });
});
