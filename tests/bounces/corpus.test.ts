/**
 * The classifier against a public corpus of real bounces from many mail servers and mailbox
 * providers (Sisimai's set-of-emails, with the verdicts Sisimai publishes for each file: see
 * tests/fixtures/bounces/set-of-emails/PROVENANCE.md). What matters to a list is one question:
 * is the address dead? The agreement is measured on that question; `npm run bench` reports it
 * beside the goal (95%), and this test holds it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { classify, textRecipients } from '../../src/bounces/classify.js';
import { readReport } from '../../src/bounces/report.js';
import { fixtures } from '../helpers.js';

const corpus = join(fixtures, 'bounces', 'set-of-emails');

export async function agreement() {
  const rows = readFileSync(join(corpus, 'expected.tsv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t'));
  let agree = 0;
  let missedDead = 0;
  let calledDead = 0;
  for (const [file, index, , , , hard] of rows) {
    const report = await readReport(readFileSync(join(corpus, 'maildir', 'bsd', file!)));
    // A plain-text bounce about several recipients is judged for the one the row is about.
    const verdict = classify(report, report.recipients[Number(index) - 1] ?? report.recipients[0], report.recipients.length ? undefined : textRecipients(report)[Number(index) - 1]);
    const dead = verdict.kind === 'hard';
    if (dead === (hard === 'true')) agree++;
    else if (dead) calledDead++;
    else missedDead++;
  }
  return { total: rows.length, agree, missedDead, calledDead };
}

describe('the classifier on real bounces', () => {
  test('agrees with the published verdicts on whether the address is dead, for at least 95% of 626 recipients (the goal)', async () => {
    const result = await agreement();
    expect(result.total).toBe(626);
    expect(result.agree / result.total).toBeGreaterThanOrEqual(0.95);
  });

  test('reads every complaint as one, a DMARC failure report as the sender\'s, and never calls a complaint, vacation reply or delivery notice a dead address', async () => {
    const rows = readFileSync(join(corpus, 'expected.tsv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t'));
    const seen = [];
    for (const [file, index, , , reason, , type] of rows.filter(([, , , , reason]) => ['feedback', 'vacation', 'delivered'].includes(reason!))) {
      const report = await readReport(readFileSync(join(corpus, 'maildir', 'bsd', file!)));
      const { kind } = classify(report, report.recipients[Number(index) - 1] ?? report.recipients[0]);
      seen.push({ file, kind });
      if (reason === 'feedback' && type === 'auth-failure') expect({ file, kind }).toEqual({ file, kind: 'sender' });
      else if (reason === 'feedback' && type !== 'opt-out') expect({ file, kind }).toEqual({ file, kind: 'complaint' });
      // An opt-out (a reader asking off by mail) stops the mail too, as a complaint or left alone.
      else if (type === 'opt-out') expect({ file, kind }).toEqual({ file, kind: expect.stringMatching(/^(complaint|auto-reply)$/) });
      else expect({ file, kind }).toEqual({ file, kind: expect.stringMatching(/^(auto-reply|not-report)$/) });
    }
    expect(seen.length).toBe(31);
  });
});
