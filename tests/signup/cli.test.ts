/**
 * Whoever left comes back only by confirming, also from the command line: `subscribers add
 * --resubscribe` mails the sign-up confirmation instead of changing the list, an import cannot
 * resubscribe anyone, and `subscribers count` / `list --status pending` show who has not confirmed.
 * The compiled CLI against a real SMTP server on loopback, on SQLite and PostgreSQL.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { onEachDatabase, tempDir } from '../audience/databases.js';
import { runCli } from '../helpers.js';
import { startSink } from '../smtp-sink.js';

const SECRET = 'a test secret of at least thirty-two characters';
const CONFIG = `name: Test Gazette
from: "Test Gazette <news@gazette.example>"
address: "1 Press Lane, Testville"
baseUrl: https://gazette.example/news
signup:
  enabled: true
`;

onEachDatabase((target) => {
  describe('sign-up from the command line', () => {
    test('add --resubscribe mails the confirmation and changes nothing until it is pressed; pending is counted and listed', async () => {
      const sink = await startSink();
      try {
        const cwd = await tempDir();
        writeFileSync(join(cwd, 'digest.config.yaml'), CONFIG);
        const db = await target.fresh();
        const env = { DIGEST_SECRET: SECRET, DIGEST_SMTP_URL: sink.url };
        const digest = (...args: string[]) => runCli(['subscribers', ...args, '--db', db], { cwd, env });
        expect((await digest('add', 'ann@example.org', '--name', 'Ann Quarry')).code).toBe(0);
        expect((await digest('unsubscribe', 'ann@example.org')).code).toBe(0);

        const refused = await digest('add', 'ann@example.org');
        expect(refused.code).toBe(1);
        expect(refused.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^digest: ann@example.org is unsubscribed since .*--resubscribe mails them a link to confirm$/)]);

        const invited = await digest('add', 'ann@example.org', '--resubscribe', '--json');
        expect(invited.code).toBe(0);
        expect(JSON.parse(invited.stdout)).toEqual({ result: 'confirmation-sent', email: 'ann@example.org' });
        expect(sink.received.map((message) => message.recipient)).toEqual(['ann@example.org']);
        expect(sink.received[0]!.parsed.text).toMatch(/https:\/\/gazette\.example\/news\/confirm\?token=/);

        const counts = JSON.parse((await digest('count', '--json')).stdout);
        expect(counts).toEqual({ total: 1, subscribed: 0, unsubscribed: 1, bounced: 0, complained: 0, pending: 1 });
        expect((await digest('count')).stdout).toBe('1 in all: 0 subscribed, 1 unsubscribed, 0 bounced, 0 complained; 1 pending confirmation\n');
        const pending = JSON.parse((await digest('list', '--status', 'pending', '--json')).stdout);
        expect(pending.subscribers).toEqual([expect.objectContaining({ email: 'ann@example.org', status: 'pending', name: 'Ann Quarry', consentSource: 'invited by an editor' })]);

        // A second try within ten minutes mails nothing more.
        const again = await digest('add', 'ann@example.org', '--resubscribe');
        expect(again.stdout).toMatch(/^nothing sent to ann@example.org/);
        expect(sink.received).toHaveLength(1);

        const file = join(cwd, 'back.csv');
        writeFileSync(file, 'email,status\nann@example.org,subscribed\n');
        const imported = await digest('import', file, '--resubscribe');
        expect(imported.code).toBe(1);
        expect(imported.stderr).toMatch(/^digest: an import cannot resubscribe anyone/);
        expect(JSON.parse((await digest('count', '--json')).stdout)).toMatchObject({ subscribed: 0, unsubscribed: 1 });
      } finally {
        await sink.close();
      }
    });
  });
});

describe('add --resubscribe without sign-up', () => {
  test('says how to turn it on, and changes nothing', async () => {
    const cwd = await tempDir();
    writeFileSync(join(cwd, 'digest.config.yaml'), 'name: Test Gazette\n');
    const db = `sqlite:${join(cwd, 'digest.db')}`;
    const env = { DIGEST_SECRET: SECRET };
    const digest = (...args: string[]) => runCli(['subscribers', ...args, '--db', db], { cwd, env });
    await digest('add', 'bo@example.org');
    await digest('remove', 'bo@example.org');
    const run = await digest('add', 'bo@example.org', '--resubscribe');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^digest: .*digest.config.yaml: bo@example.org left the list, and only they can bring themselves back by confirming: set signup.enabled/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
