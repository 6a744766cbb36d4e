// Bounce reports: `digest bounces read` (the compiled CLI) on a folder of DSNs, each naming a reader
// of a real journal through its VERP tag, so every report is parsed, classified, matched and
// applied (the reader bounced, the event kept), against the bare mailparser parse of the same
// files in a process of its own, alternately, both from a cold start. Also the classifier's
// agreement with Sisimai's published verdicts on its corpus (tests/bounces/corpus.test.ts).
// Needs `npm run build` first (npm run bench does it).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { row, summarise } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'digest.js');
const SECRET = 'bench secret, thirty-two characters or more, not used elsewhere';
const ISSUE = 'bench-week';
const BOUNCES = 'bounces@bounces.bench.example';

export async function run({ quick }) {
  const work = mkdtempSync(join(tmpdir(), 'digest-bench-bounces-'));
  try {
    const reports = quick ? 2_000 : 10_000;
    const runs = quick ? 2 : 5;
    writeFileSync(join(work, 'digest.config.yaml'), `name: Bench Gazette\nfrom: "Bench Gazette <news@bench.example>"\nbounceAddress: ${BOUNCES}\n`);
    const template = join(work, 'template.db');
    const { openStore } = await import(join(root, 'dist', 'audience', 'open.js'));
    const { bounceKey, bounceTag, verpAddress } = await import(join(root, 'dist', 'bounces', 'verp.js'));
    const key = bounceKey(SECRET);
    const store = await openStore(`sqlite:${template}`, { create: true });
    const now = new Date().toISOString();
    await store.dialect.db.insertInto('sends').values({ issue: ISSUE, subject: 'Bench week', started_at: now, enqueued_at: now, completed_at: now, excluded: 0 }).execute();
    const folder = join(work, 'reports');
    mkdirSync(folder);
    for (let start = 0; start < reports; start += 500) {
      const readers = [];
      for (let i = start; i < Math.min(start + 500, reports); i++) readers.push(`reader${i}@example.com`);
      await store.upsert(readers.map((email) => ({ email, international: false, status: 'subscribed' })), { source: 'bench' });
      await store.dialect.db
        .insertInto('send_journal')
        .values(
          readers.map((email, j) => ({
            issue: ISSUE,
            email_key: email,
            email,
            name: null,
            attributes: '{}',
            state: 'sent',
            attempts: 1,
            lease_owner: null,
            lease_until: null,
            message_id: `<${(start + j).toString(16).padStart(32, '0')}.${ISSUE}@bench.example>`,
            reply: '250 ok',
            route: null,
            bounce_tag: bounceTag(key, ISSUE, email),
            updated_at: now,
          })),
        )
        .execute();
      readers.forEach((email, j) => writeFileSync(join(folder, `${String(start + j).padStart(6, '0')}.eml`), dsn(email, verpAddress(BOUNCES, bounceTag(key, ISSUE, email)), start + j)));
    }
    await store.close();

    const env = { ...process.env, NO_COLOR: '1', DIGEST_SECRET: SECRET };
    for (const name of Object.keys(env)) if (name.startsWith('DIGEST_') && name !== 'DIGEST_SECRET') delete env[name];
    const bare = join(work, 'bare.mjs');
    writeFileSync(
      bare,
      `import { readdirSync, readFileSync } from 'node:fs';\nimport { createRequire } from 'node:module';\nimport { join } from 'node:path';\nconst { simpleParser } = createRequire(${JSON.stringify(join(root, 'package.json'))})('mailparser');\nconst dir = process.argv[2];\nlet n = 0;\nfor (const name of readdirSync(dir).sort()) { await simpleParser(readFileSync(join(dir, name)), { keepDeliveryStatus: true }); n++; }\nif (n !== ${reports}) throw new Error('parsed ' + n);\n`,
    );
    const timed = (command, args) => {
      const start = process.hrtime.bigint();
      const result = spawnSync(command, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
      return { seconds, stdout: result.stdout };
    };
    const ours = () => {
      // Each run on a fresh copy of the database: every report a first reading, every reader bounced.
      const db = join(work, 'run.db');
      rmSync(db, { force: true });
      copyFileSync(template, db);
      const { seconds, stdout } = timed(process.execPath, [bin, 'bounces', 'read', folder, '--db', `sqlite:${db}`, '--json']);
      const summary = JSON.parse(stdout);
      if (summary.reports !== reports || summary.bounced !== reports) throw new Error(`bounces read: ${summary.reports} reports, ${summary.bounced} bounced, expected ${reports} of each`);
      return seconds;
    };
    const baseline = () => timed(process.execPath, [bare, folder]).seconds;
    ours();
    baseline();
    const a = [];
    const b = [];
    for (let i = 0; i < runs; i++) {
      a.push(ours());
      b.push(baseline());
    }
    const agreement = await corpusAgreement();
    const rate = (seconds) => reports / seconds;
    return [
      row({
        figure: `bounces read, ${reports.toLocaleString('en')} DSNs (parse, classify, match, apply)`,
        unit: 's',
        ours: summarise(a),
        baseline: summarise(b),
        baselineName: 'bare mailparser `simpleParser` of the same files',
        target: 1.5,
        note: `SQLite, every report naming a reader by its VERP tag and bouncing them, each run on a fresh copy of the database; ${rate(summarise(a).median).toFixed(0)} reports/s against ${rate(summarise(b).median).toFixed(0)} parses/s bare, both from a cold start of node`,
      }),
      {
        figure: 'classifier: agreement with Sisimai on dead address or not',
        unit: '%',
        ours: summarise([agreement.percent]),
        baselineName: 'Sisimai’s published verdicts',
        absolute: true,
        goal: '≥ 95 %',
        met: agreement.percent >= 95,
        note: `${agreement.agree} of ${agreement.total} recipients in set-of-emails; ${agreement.calledDead} called dead where Sisimai does not (mostly "user unknown" that Sisimai reads as a filter from the provider), ${agreement.missedDead} dead ones missed`,
      },
    ];
  } finally {
    // KEEP=1 leaves the folder for a profiler (node --cpu-prof bin/digest.js bounces read …).
    if (process.env.KEEP) process.stderr.write(`kept ${work}\n`);
    else rmSync(work, { recursive: true, force: true });
  }
}

async function corpusAgreement() {
  const { readReport } = await import(join(root, 'dist', 'bounces', 'report.js'));
  const { classify, textRecipients } = await import(join(root, 'dist', 'bounces', 'classify.js'));
  const corpus = join(root, 'tests', 'fixtures', 'bounces', 'set-of-emails');
  const rows = readFileSync(join(corpus, 'expected.tsv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t'));
  let agree = 0;
  let calledDead = 0;
  let missedDead = 0;
  for (const [file, index, , , , hard] of rows) {
    const report = await readReport(readFileSync(join(corpus, 'maildir', 'bsd', file)));
    const dead = classify(report, report.recipients[Number(index) - 1] ?? report.recipients[0], report.recipients.length ? undefined : textRecipients(report)[Number(index) - 1]).kind === 'hard';
    if (dead === (hard === 'true')) agree++;
    else if (dead) calledDead++;
    else missedDead++;
  }
  return { total: rows.length, agree, calledDead, missedDead, percent: (100 * agree) / rows.length };
}

function dsn(email, envelopeFrom, n) {
  const boundary = `B${n}`;
  return [
    'From: MAILER-DAEMON@mx.example.net (Mail Delivery System)',
    `To: ${envelopeFrom}`,
    'Subject: Undelivered Mail Returned to Sender',
    `Message-ID: <dsn-${n}@mx.example.net>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mx.example.net. Your message could not be delivered.',
    '',
    `<${email}>: host in.example.com[192.0.2.7] said: 550 5.1.1 <${email}>: Recipient address rejected: User unknown (in reply to RCPT TO command)`,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.net',
    '',
    `Final-Recipient: rfc822; ${email}`,
    'Action: failed',
    'Status: 5.1.1',
    `Diagnostic-Code: smtp; 550 5.1.1 <${email}>: Recipient address rejected: User unknown`,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    'From: "Bench Gazette" <news@bench.example>',
    `To: ${email}`,
    'Subject: Bench week',
    `Message-ID: <${n.toString(16).padStart(32, '0')}.${ISSUE}@bench.example>`,
    '',
    `--${boundary}--`,
    '',
  ].join('\n');
}
