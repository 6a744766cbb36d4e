import { describe, expect, it } from 'vitest';
import { formData } from '../../../src/delivery/channels/form-data.js';

describe('formData', () => {
  it('writes a body that the platform’s multipart reader reads back exactly: every field, and the file’s bytes as given', async () => {
    const pieces = [Buffer.from('Subject: =?utf-8?Q?Zo=C3=AB?=\r\n\r\n'), Buffer.from([0, 255, 13, 10, 45, 45]), Buffer.from('\r\n--not-the-boundary--\r\n')];
    const form = formData(
      [
        ['to', 'a@example.org'],
        ['to', 'zoë@exämple.org'],
      ],
      { name: 'message', filename: 'message.mime', type: 'message/rfc822', pieces },
    );
    expect(form.body.slice(1, 4)).toEqual(pieces);
    const read = await new Request('http://form.invalid/', { method: 'POST', headers: { 'content-type': form.type }, body: Buffer.concat(form.body) }).formData();
    expect(read.getAll('to')).toEqual(['a@example.org', 'zoë@exämple.org']);
    const file = read.get('message') as File;
    expect(file.name).toBe('message.mime');
    expect(file.type).toBe('message/rfc822');
    expect(Buffer.from(await file.arrayBuffer()).equals(Buffer.concat(pieces))).toBe(true);
  });

  it('draws a new boundary for every body', () => {
    const type = () => formData([], { name: 'f', filename: 'f', type: 'text/plain', pieces: [] }).type;
    expect(type()).not.toBe(type());
  });
});
