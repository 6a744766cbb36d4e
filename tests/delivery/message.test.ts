import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { MessageFactory, type Recipient } from '../../src/delivery/message.js';
import { quotedPrintablePieces } from '../../src/delivery/quoted-printable.js';
import { unsubscribeKey } from '../../src/delivery/unsubscribe.js';
import { loadIssue } from '../../src/issue/load.js';
import { renderIssue, type Edition } from '../../src/render/index.js';
import { compileMerge, compileSplice } from '../../src/render/merge.js';
import { configFor, fixtures, tempProject } from '../helpers.js';

const readers: Recipient[] = [
  { email: 'ana@example.org', name: 'Ana', attributes: {} },
  { email: 'zoe@example.org', name: 'Zoë Ørsted-Łukasz', attributes: {} },
  { email: 'tab@example.org', name: 'Trailing Spaces   ', attributes: {} },
  { email: 'dot@example.org', name: '.Dot <b>bold</b> "quoted" = sign', attributes: {} },
  { email: 'lines@example.org', name: 'Two\r\n.lines\rand\nmore', attributes: {} },
  { email: 'none@example.org', name: null, attributes: {} },
  { email: 'long@example.org', name: 'A'.repeat(300), attributes: {} },
];

describe('a reader’s message', () => {
  let edition: Edition;
  let factory: MessageFactory;
  beforeAll(async () => {
    const root = tempProject();
    edition = await renderIssue(await loadIssue(join(fixtures, 'issues', 'complete.md')), await configFor(root));
    factory = new MessageFactory(edition, { from: '"Test Gazette" <news@gazette.example>', newsletter: 'The Test Gazette', unsubscribeBase: 'https://gazette.example/u', key: unsubscribeKey('a test secret that is long enough to seal links') });
  });

  it('decodes to exactly the HTML and text a whole merge of the issue gives that reader', async () => {
    for (const recipient of readers) {
      const message = factory.build(recipient, recipient.email);
      const parsed = await simpleParser(message.raw);
      const unsubscribe = (parsed.headers.get('list') as { unsubscribe: { url: string } }).unsubscribe.url;
      const reader = {
        subscriber: { email: recipient.email, name: recipient.name ?? undefined, first_name: recipient.name?.trim().split(/\s+/)[0] || undefined, attributes: {} },
        unsubscribe_url: unsubscribe,
      };
      expect(parsed.html, recipient.email).toBe(compileMerge(edition.html)(reader));
      expect(parsed.text!.replace(/\r\n/g, '\n'), recipient.email).toBe(compileMerge(edition.text, 'text')(reader).replace(/\r\n/g, '\n').trimEnd());
    }
  });

  it('keeps every body line within 76 characters, CRLF line breaks only, and no line that begins with a dot (nothing for SMTP to stuff)', () => {
    for (const recipient of readers) {
      const raw = factory.build(recipient, recipient.email).raw.toString('latin1');
      expect(raw.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
      expect(raw).not.toMatch(/(^|\n)\./);
      const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
      for (const line of body.split('\r\n')) expect(line.length, line).toBeLessThanOrEqual(76);
      expect(body).toMatch(/Content-Transfer-Encoding: quoted-printable/);
    }
  });
});

describe('quoted-printable pieces', () => {
  it('join into one valid encoding whatever falls at the seams', async () => {
    const splice = compileSplice('line one  \n{{subscriber.name}}\n.starts with a dot {{unsubscribe_url}}  \nend', 'text', quotedPrintablePieces);
    const bytes = splice({ subscriber: { name: 'x  ' }, unsubscribe_url: '' });
    expect(bytes.toString('latin1')).toMatch(/\r\n=2Estarts/);
    const parsed = await simpleParser(Buffer.concat([Buffer.from('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'), bytes]));
    expect(parsed.text).toBe('line one  \nx  \n.starts with a dot   \nend');
  });
});
