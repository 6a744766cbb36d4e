import { toString } from 'mdast-util-to-string';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { parseBody } from '../../src/issue/markdown.js';

function rejection(body: string, bodyLine = 5): UserError {
  try {
    parseBody(body, bodyLine, 'issues/x.md');
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected the body to be rejected');
}

describe('the issue body', () => {
  it('reports positions as lines of the issue file, past the front matter', () => {
    const tree = parseBody('first\n\n## Heading\n', 7, 'x.md');
    const heading = tree.children.find((node) => node.type === 'heading');
    expect(heading?.position?.start.line).toBe(9);
  });

  it('parses GFM tables, strikethrough and autolinks', () => {
    const tree = parseBody('| a |\n|---|\n| 1 |\n\n~~old~~ https://example.org\n', 1, 'x.md');
    expect(tree.children.map((node) => node.type)).toEqual(['table', 'paragraph']);
    expect(JSON.stringify(tree)).toContain('"delete"');
    expect(JSON.stringify(tree)).toContain('"url":"https://example.org"');
  });

  it('accepts the three directives', () => {
    const body = '::button[Give]{href="https://x.org"}\n\n::related[Story]{href="https://x.org/s"}\n\n:::callout\nHi\n:::\n';
    expect(parseBody(body, 1, 'x.md').children.map((node) => node.type)).toEqual(['leafDirective', 'leafDirective', 'containerDirective']);
  });

  it('leaves colons in prose as text: times, labels, "Note:this"', () => {
    const tree = parseBody('At 10:30, Note:this and :word stay.\n', 1, 'x.md');
    expect(JSON.stringify(tree)).not.toContain('textDirective');
    expect(toString(tree)).toBe('At 10:30, Note:this and :word stay.');
  });
});

describe('directive mistakes are errors at their line', () => {
  it('an unknown directive, with a suggestion', () => {
    const error = rejection('Text\n\n::buton[Give]{href="https://x.org"}\n');
    expect(error.located).toBe('issues/x.md:7: unknown directive ::buton (known: ::button, ::related, :::callout)');
    expect(error.code).toBe('unknown-directive');
  });

  it('a known name with the wrong number of colons', () => {
    expect(rejection(':::button\nx\n:::\n').message).toContain('did you mean ::button?');
  });

  it('an inline directive with a label', () => {
    expect(rejection('Click :button[here]{href="https://x.org"} now\n').message).toContain('must stand on a line of its own');
  });

  it('an unclosed ::: block, at the line that opens it', () => {
    const error = rejection('Intro\n\n:::callout\nSupport us\n\n## Next section\n');
    expect(error.code).toBe('unclosed-directive');
    expect(error.line).toBe(7);
  });

  it('a button without an href or a label', () => {
    expect(rejection('::button[Give]\n').message).toContain('needs an href');
    expect(rejection('::related{href="https://x.org"}\n').message).toContain('needs a label');
  });
});
