import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, SECRET } from '../delivery/project.js';
import { onTerminal } from '../pty.js';
import { sinkForSuite } from '../smtp-sink.js';

/** `digest send` on a real terminal, through tests/pty.ts. */
describe('digest send at a terminal', () => {
  const sink = sinkForSuite();

  it('stops at once on Ctrl-C at the question: nothing sent, status 130, no stack trace', async () => {
    const root = project();
    const result = await onTerminal(['send', 'issues/week.md', '--to', 'readers.csv', '--db', `sqlite:${join(root, 'digest.db')}`, '--smtp', sink().url], { cwd: root, env: { DIGEST_SECRET: SECRET }, answers: [['[y/N]', '\x03']] });
    expect(result.code).toBe(130);
    expect(result.output).not.toMatch(/internal error|AbortError|\n\s+at /);
    expect(sink().received).toHaveLength(0);
  }, 30_000);

  it('asks before sending, and sends nothing when the answer is no', async () => {
    const root = project();
    const result = await onTerminal(['send', 'issues/week.md', '--to', 'readers.csv', '--db', `sqlite:${join(root, 'digest.db')}`, '--smtp', sink().url], { cwd: root, env: { DIGEST_SECRET: SECRET }, answers: [['[y/N]', 'n']] });
    expect(result.output).toContain(`Send "Bridge reopens; budget vote Tuesday" to 3 readers via smtp://127.0.0.1:${sink().port}? [y/N]`);
    expect(result.output).toContain('not sent: week');
    expect(sink().received).toHaveLength(0);
  }, 30_000);

  it('sends once the answer is yes, with a progress bar', async () => {
    const root = project();
    const result = await onTerminal(['send', 'issues/week.md', '--to', 'readers.csv', '--db', `sqlite:${join(root, 'digest.db')}`, '--smtp', sink().url], { cwd: root, env: { DIGEST_SECRET: SECRET }, answers: [['[y/N]', 'y']] });
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/100% \| 3\/3 \| 3 sent, 0 failed, 0 deferred/);
    // One bar, finished before the summary line.
    expect(result.output.lastIndexOf('100% |')).toBeLessThan(result.output.indexOf('3 sent now'));
    expect(result.output.match(/ 0% \|/g)).toHaveLength(1);
    expect(sink().received.map((message) => message.recipient).sort()).toEqual(['ana@example.org', 'bo@example.org', 'cy@example.org']);
  }, 30_000);
});

describe('digest subscribers import at a terminal', () => {
  it('counts the rows read as it goes, and clears the count before its summary', async () => {
    const root = mkdtempSync(join(tmpdir(), 'digest-import-tty-'));
    const rows = Array.from({ length: 120_000 }, (_, i) => `r${i}@example.com,Reader ${i}`);
    writeFileSync(join(root, 'list.csv'), `email,name\n${rows.join('\n')}\n`);
    const result = await onTerminal(['subscribers', 'import', 'list.csv', '--db', `sqlite:${join(root, 'digest.db')}`], { cwd: root }).finally(() =>
      rmSync(root, { recursive: true, force: true }),
    );
    expect(result.code).toBe(0);
    const counts = [...result.output.matchAll(/\r([\d,]+) rows read…/g)].map((match) => Number(match[1]!.replaceAll(',', '')));
    expect(counts.length).toBeGreaterThan(0);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBeLessThanOrEqual(120_000);
    expect(result.output.lastIndexOf('rows read…')).toBeLessThan(result.output.indexOf('\r\x1b[K'));
    expect(result.output).toContain('120000 new, 0 updated, 0 unchanged, 0 rejected');
  }, 30_000);
});
