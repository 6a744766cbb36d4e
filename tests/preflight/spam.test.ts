import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreflightContext } from '../../src/preflight/index.js';
import { checkSpam, parseHostPort, parseSpamReport, sampleMessage } from '../../src/preflight/spam.js';
import { contextFor, sampleIssueText } from './context.js';
import { freePort, SPAMASSASSIN, spamAssassinAvailable, startSpamd, type Spamd } from './spamassassin.js';

/** Everything a spam filter dislikes: a shouting subject, money, pharmacy, urgency, images and "click here". */
const spammyIssue = `---
title: "FREE MONEY!!! CLICK HERE NOW"
date: 2024-03-08
subject: "FREE MONEY!!! CLICK HERE NOW!!!"
preheader: "100% FREE, NO COST, ACT NOW"
---
![](https://img.example.org/offer-1.jpg)

![](https://img.example.org/offer-2.jpg)

**FREE!!! CLICK HERE** to claim your $1,000,000.00 CASH PRIZE. Dear Friend, CONGRATULATIONS, you have been SELECTED as a WINNER!
100% FREE, no credit check, no obligation, risk free. Act now, this offer expires today! Double your income,
work from home, earn extra cash. Lowest mortgage rates, cheap Viagra, online pharmacy.

[CLICK HERE](https://win-money.example.org/claim?id=12345) [CLICK HERE](https://win-money.example.org/claim2)
`;

/** A folder to put on PATH holding only the named programs (links to the real ones, or scripts). */
function binFolder(programs: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'digest-bin-'));
  for (const [name, target] of Object.entries(programs)) {
    if (target.startsWith('#!')) {
      writeFileSync(join(dir, name), target);
      chmodSync(join(dir, name), 0o755);
    } else {
      symlinkSync(target, join(dir, name));
    }
  }
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The environment for one run: no DIGEST_ variable of the test runner's own leaks in. */
function envWith(values: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('DIGEST_')) env[key] = value;
  return { ...env, ...values };
}

describe('the SpamAssassin report', () => {
  const spamcReport = [
    '6.3/5.0',
    'Spam detection software, running on the system "vm",',
    'has identified this incoming email as possible spam.',
    '',
    'Content analysis details:   (6.3 points, 5.0 required)',
    '',
    ' pts rule name              description',
    '---- ---------------------- --------------------------------------------------',
    '-0.0 NO_RECEIVED            Informational: message has no Received headers',
    ' 0.7 HTML_FONT_LOW_CONTRAST BODY: HTML font color similar or identical to',
    '                            background',
    ' 2.0 TVD_VISIT_PHARMA       BODY: Body mentions online pharmacy',
    ' 1.0 US_DOLLARS_3           BODY: Mentions millions of $ ($NN,NNN,NNN.NN)',
    '',
  ].join('\n');

  it('reads spamc -R: the score line, the table, and descriptions that wrap', () => {
    expect(parseSpamReport(spamcReport)).toEqual({
      score: 6.3,
      required: 5,
      rules: [
        { points: -0, name: 'NO_RECEIVED', description: 'Informational: message has no Received headers' },
        { points: 0.7, name: 'HTML_FONT_LOW_CONTRAST', description: 'BODY: HTML font color similar or identical to background' },
        { points: 2, name: 'TVD_VISIT_PHARMA', description: 'BODY: Body mentions online pharmacy' },
        { points: 1, name: 'US_DOLLARS_3', description: 'BODY: Mentions millions of $ ($NN,NNN,NNN.NN)' },
      ],
    });
  });

  it('reads spamassassin -t: the report after the message, even when the message quotes one', () => {
    const message = [
      'Subject: a newsletter about spam filters',
      '',
      'Content analysis details:   (99.0 points, 1.0 required)',
      '',
      ' pts rule name              description',
      '---- ---------------------- --------------------------------------------------',
      ' 99.0 QUOTED_RULE           not from this run',
      '',
    ].join('\r\n');
    const report = parseSpamReport(`${message}${spamcReport.split('\n').slice(1).join('\n')}`);
    expect(report?.score).toBe(6.3);
    expect(report?.rules.map((rule) => rule.name)).toEqual(['NO_RECEIVED', 'HTML_FONT_LOW_CONTRAST', 'TVD_VISIT_PHARMA', 'US_DOLLARS_3']);
  });

  it('gives nothing for output without a score', () => {
    expect(parseSpamReport('')).toBeUndefined();
    expect(parseSpamReport('spamc: connect to spamd failed\n')).toBeUndefined();
  });

  it('reads DIGEST_SPAMD', () => {
    expect(parseHostPort('127.0.0.1:7830')).toEqual({ host: '127.0.0.1', port: 7830 });
    expect(parseHostPort('spam.internal')).toEqual({ host: 'spam.internal', port: 783 });
    expect(parseHostPort('[::1]:7830')).toEqual({ host: '::1', port: 7830 });
  });
});

describe('the message scored', () => {
  let context: PreflightContext;
  beforeAll(async () => {
    context = await contextFor(sampleIssueText);
  });

  it('is the one send builds for the first test address: List-Unsubscribe and its one-click pair, no test marks', async () => {
    const raw = (await sampleMessage(context, envWith({}))).toString('utf8');
    const head = raw.slice(0, raw.indexOf('\r\n\r\n'));
    expect(head).toMatch(/^From: "The Valley Ledger" <briefing@valleyledger\.example>$/m);
    expect(head).toMatch(/^To: <editor@valleyledger\.example>$/m);
    expect(head).toMatch(/^Subject: Swing bridge decision nears, ice leaves the Tamsen$/m);
    expect(head).toMatch(/^List-Unsubscribe:\s+<https:\/\/valleyledger\.example\/newsletter\/unsubscribe\/u1\./m);
    expect(head).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(head).not.toContain('X-Digest-Test');
    expect(head).not.toContain('[TEST]');
    expect(raw).not.toContain('{{');
  });

  it('is DKIM-signed when a key is configured, as every route that carries our bytes signs it', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const raw = (await sampleMessage(context, envWith({ DIGEST_DKIM_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), DIGEST_DKIM_SELECTOR: 'ledger' }))).toString('utf8');
    expect(raw).toMatch(/^DKIM-Signature: .*d=valleyledger\.example; .*s=ledger;/ms);
  });

  it('goes to a placeholder reader when the config has no test address', async () => {
    const placeholder = await contextFor(sampleIssueText, 'name: Test Gazette\nfrom: "Test Gazette <news@gazette.example>"\n');
    const raw = (await sampleMessage(placeholder, envWith({}))).toString('utf8');
    expect(raw).toMatch(/^To: <reader@example\.com>$/m);
  });
});

describe('without SpamAssassin', () => {
  let context: PreflightContext;
  beforeAll(async () => {
    context = await contextFor(sampleIssueText);
  });

  it('is skipped, and says how to install it', async () => {
    const result = await checkSpam(context, { env: envWith({ PATH: '/nonexistent' }) });
    expect(result).toEqual({ check: 'spam', diagnostics: [], skipped: 'SpamAssassin is not installed (apt-get install spamassassin)' });
  });

  it('says so when DIGEST_SPAMD names a spamd but spamc is missing', async () => {
    const result = await checkSpam(context, { env: envWith({ PATH: '/nonexistent', DIGEST_SPAMD: '127.0.0.1:1' }) });
    expect(result.skipped).toMatch(/^SpamAssassin is not installed .*the spamc client is not installed \(apt-get install spamc\)$/);
  });
});

describe('a message that cannot be built', () => {
  it('is one error line when there is no sender', async () => {
    const bin = binFolder({ spamassassin: '#!/bin/sh\nexit 0\n' });
    const noSender = await contextFor(sampleIssueText, 'name: Test Gazette\n');
    expect((await checkSpam(noSender, { env: envWith({ PATH: bin }) })).diagnostics).toEqual([
      { code: 'missing-from', severity: 'error', message: 'cannot build the message to score: no sender: set from: in the config or DIGEST_FROM', file: noSender.issue.file },
    ]);
  });

  it('is one error line when the DKIM key cannot sign (a send refuses it too, rather than going out unsigned)', async () => {
    const bin = binFolder({ spamassassin: "#!/bin/sh\ncat >/dev/null\nprintf 'Content analysis details:   (0.0 points, 5.0 required)\\n'\n" });
    const context = await contextFor(sampleIssueText);
    const result = await checkSpam(context, { env: envWith({ PATH: bin, DIGEST_DKIM_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----', DIGEST_DKIM_SELECTOR: 'ledger' }) });
    expect(result.diagnostics).toEqual([
      { code: 'invalid-dkim', severity: 'error', message: expect.stringMatching(/^cannot build the message to score: DIGEST_DKIM_PRIVATE_KEY is not a usable DKIM private key \(an RSA key in PEM\): /), file: context.issue.file },
    ]);
  });
});

describe('a spamassassin command that fails', () => {
  let context: PreflightContext;
  beforeAll(async () => {
    context = await contextFor(sampleIssueText);
  });

  it('gives one error line with its own words', async () => {
    const bin = binFolder({ spamassassin: '#!/bin/sh\ncat >/dev/null\necho "Dec  1 02:35:20.968 [17993] error: config: no rules were found! Do you need to run \'sa-update\'?" >&2\nexit 2\n' });
    const result = await checkSpam(context, { env: envWith({ PATH: bin }) });
    expect(result.diagnostics).toEqual([
      { code: 'spam-check-failed', severity: 'error', message: "spamassassin -L (local tests only) failed: error: config: no rules were found! Do you need to run 'sa-update'?", file: context.issue.file },
    ]);
  });

  it('is given up on after the timeout', async () => {
    const bin = binFolder({ spamassassin: '#!/bin/sh\nexec sleep 30\n' });
    const started = Date.now();
    const result = await checkSpam(context, { env: envWith({ PATH: bin }), timeoutMs: 1000 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.diagnostics).toMatchObject([{ code: 'spam-check-failed', severity: 'error', message: 'spamassassin -L (local tests only) failed: no answer within 1 s' }]);
  });

  it('warns at half the threshold, naming the rules that cost most', async () => {
    const report = [
      'Content analysis details:   (3.1 points, 5.0 required)',
      '',
      ' pts rule name              description',
      '---- ---------------------- --------------------------------------------------',
      ' 2.0 TVD_VISIT_PHARMA       BODY: Body mentions online pharmacy',
      ' 0.5 SUBJ_ALL_CAPS          Subject is all capitals',
      ' 0.6 HTML_IMAGE_RATIO_02    BODY: HTML has a low ratio of text to image area',
      '-0.0 NO_RELAYS              Informational: message was not relayed via SMTP',
    ].join('\n');
    const bin = binFolder({ spamassassin: `#!/bin/sh\ncat\ncat <<'EOF'\n${report}\nEOF\n` });
    const result = await checkSpam(context, { env: envWith({ PATH: bin }) });
    expect(result.diagnostics).toEqual([
      {
        code: 'spam-score',
        severity: 'warning',
        message: 'SpamAssassin scores this message 3.1, over half the 5.0 that marks it as spam (most from TVD_VISIT_PHARMA 2, HTML_IMAGE_RATIO_02 0.6, SUBJ_ALL_CAPS 0.5)',
        file: context.issue.file,
      },
    ]);
    expect(result.notes).toEqual([
      'score 3.1 (5.0 marks spam), by spamassassin -L (local tests only)',
      '2.0 TVD_VISIT_PHARMA BODY: Body mentions online pharmacy',
      '0.6 HTML_IMAGE_RATIO_02 BODY: HTML has a low ratio of text to image area',
      `0.5 SUBJ_ALL_CAPS Subject is all capitals (line ${context.issue.lineOf('subject')})`,
    ]);
  });
});

describe.runIf(spamAssassinAvailable())('with SpamAssassin', () => {
  let clean: PreflightContext;
  let spammy: PreflightContext;
  let spamd: Spamd;
  beforeAll(async () => {
    [clean, spammy, spamd] = await Promise.all([contextFor(sampleIssueText), contextFor(spammyIssue), startSpamd()]);
  }, 120_000);
  afterAll(async () => spamd?.stop());

  describe('through spamd, with the spamc client', () => {
    it('scores the sample issue well below the threshold', async () => {
      const result = await checkSpam(clean, { env: envWith({ DIGEST_SPAMD: spamd.address }) });
      expect(result.skipped).toBeUndefined();
      expect(result.diagnostics).toEqual([]);
      expect(result.notes?.[0]).toMatch(new RegExp(`^score (\\d\\.\\d) \\(5\\.0 marks spam\\), by spamd at ${spamd.address.replace(/\./g, '\\.')}$`));
      expect(Number(/^score (\S+)/.exec(result.notes![0]!)![1])).toBeLessThan(2.5);
    });

    it('scores a spammy issue over the threshold, naming the rules and the subject line', async () => {
      const result = await checkSpam(spammy, { env: envWith({ DIGEST_SPAMD: spamd.address }) });
      expect(result.diagnostics).toHaveLength(1);
      expect(result.diagnostics[0]).toMatchObject({ code: 'spam-score', severity: 'error', file: spammy.issue.file });
      expect(result.diagnostics[0]!.message).toMatch(/^SpamAssassin scores this message \d+\.\d, at or over the 5\.0 that marks it as spam \(most from [A-Z_0-9]+ /);
      expect(result.notes).toContain(`0.5 SUBJ_ALL_CAPS Subject is all capitals (line ${spammy.issue.lineOf('subject')})`);
      expect(result.notes!.some((note) => /^\d\.\d DRUGS_ERECTILE /.test(note))).toBe(true);
    });

    it('gives one error line when what answers is not spamd', async () => {
      const server = await listen((socket) => socket.end('garbage\r\n'));
      try {
        const result = await checkSpam(clean, { env: envWith({ DIGEST_SPAMD: addressOf(server) }) });
        expect(result.diagnostics).toHaveLength(1);
        expect(result.diagnostics[0]).toMatchObject({ code: 'spam-check-failed', severity: 'error' });
        expect(result.diagnostics[0]!.message).toMatch(new RegExp(`^spamd at ${addressOf(server).replace(/\./g, '\\.')} failed: spamc: spamd responded with bad string 'garbage'$`));
      } finally {
        server.close();
      }
    });

    it('gives up on a spamd that never answers', async () => {
      const sockets: Socket[] = [];
      const server = await listen((socket) => sockets.push(socket));
      try {
        const started = Date.now();
        const result = await checkSpam(clean, { env: envWith({ DIGEST_SPAMD: addressOf(server) }), timeoutMs: 2000 });
        expect(Date.now() - started).toBeLessThan(8000);
        expect(result.diagnostics).toMatchObject([{ code: 'spam-check-failed', severity: 'error' }]);
      } finally {
        for (const socket of sockets) socket.destroy();
        server.close();
      }
    });
  });

  describe('through the spamassassin command, local tests only', () => {
    it('is used when no spamd answers, and says so', async () => {
      const closed = `127.0.0.1:${await freePort()}`;
      const result = await checkSpam(spammy, { env: envWith({ DIGEST_SPAMD: closed }) });
      expect(result.diagnostics).toMatchObject([{ code: 'spam-score', severity: 'error' }]);
      expect(result.notes?.[0]).toMatch(/^score \d+\.\d \(5\.0 marks spam\), by spamassassin -L \(local tests only\)$/);
      expect(result.notes).toContain(`no spamd answered at ${closed} (DIGEST_SPAMD): scored with the spamassassin command instead`);
      expect(result.notes!.some((note) => /^\d\.\d SUBJ_ALL_CAPS /.test(note))).toBe(true);
    });

    it('scores the sample issue well below the threshold when only spamassassin is installed', async () => {
      const bin = binFolder({ spamassassin: SPAMASSASSIN });
      const result = await checkSpam(clean, { env: envWith({ PATH: bin }) });
      expect(result.diagnostics).toEqual([]);
      expect(result.notes?.[0]).toMatch(/^score \d\.\d \(5\.0 marks spam\), by spamassassin -L \(local tests only\)$/);
      expect(Number(/^score (\S+)/.exec(result.notes![0]!)![1])).toBeLessThan(2.5);
    });

    it('scores the same as spamd does', async () => {
      const bin = binFolder({ spamassassin: SPAMASSASSIN });
      const [command, daemon] = await Promise.all([checkSpam(spammy, { env: envWith({ PATH: bin }) }), checkSpam(spammy, { env: envWith({ DIGEST_SPAMD: spamd.address }) })]);
      expect(command.notes![0]!.replace(/, by .*/, '')).toBe(daemon.notes![0]!.replace(/, by .*/, ''));
      expect(command.notes!.slice(1)).toEqual(daemon.notes!.slice(1));
    });
  });
});

function listen(onConnection: (socket: Socket) => void): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      socket.on('error', () => {}); // spamc hangs up on what it cannot read
      onConnection(socket);
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function addressOf(server: Server): string {
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

