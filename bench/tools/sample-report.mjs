// A made-up history for the sample report in docs/ (docs/images/report-*.png): twelve weeks of a
// regional briefing's list and eight weekly sends, written into a fresh SQLite file through the
// compiled store and plain inserts. Sample data only: tests build their reports from real sends.
//   node bench/tools/sample-report.mjs /tmp/sample.db
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { openStore } = await import(join(root, 'dist', 'audience', 'open.js'));
const target = process.argv[2];
if (!target) throw new Error('usage: node bench/tools/sample-report.mjs FILE.db');

let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const now = Date.parse('2026-11-30T09:00:00Z');
const day = 86_400_000;
const store = await openStore(`sqlite:${target}`, { create: true });
const domains = ['mail.example', 'post.example', 'inbox.example', 'webmail.example', 'northmail.example', 'greylist.example'];
const sources = [
  ['form', 0.55],
  ['import:old-list.csv', 0.2],
  ['https://partner.example', 0.15],
  ['cli', 0.1],
];

const readers = [];
let n = 0;
// The old list imported on day one, then a steady stream of sign-ups that grows after a campaign.
for (let week = 12; week >= 0; week--) {
  const count = week === 12 ? 900 : Math.round(40 + (12 - week) * 6 + random() * 25);
  const batch = [];
  for (let i = 0; i < count; i++) {
    const at = new Date(now - week * 7 * day - random() * 6 * day);
    const source = week === 12 ? 'import:old-list.csv' : pick(sources.filter(([name]) => !name.startsWith('import')));
    const email = `reader${n++}@${domains[Math.floor(random() * domains.length)]}`;
    let status = 'subscribed';
    let withdrawnAt = null;
    const fate = random();
    if (fate < 0.05) status = 'unsubscribed';
    else if (fate < 0.065) status = 'bounced';
    else if (fate < 0.067) status = 'complained';
    if (status !== 'subscribed') withdrawnAt = new Date(Math.min(now - 3600_000, at.getTime() + random() * 70 * day)).toISOString();
    batch.push({ email, international: false, status, consentSource: source, consentAt: at.toISOString(), withdrawnAt, withdrawnHow: status === 'subscribed' ? null : status });
    readers.push({ email, at: at.getTime() });
  }
  await store.upsert(batch, { source: 'sample' });
}

const db = store.dialect.db;
for (let issue = 0; issue < 8; issue++) {
  const started = now - (7 - issue) * 7 * day + 7 * 3600_000;
  const slug = new Date(started).toISOString().slice(0, 10) + '-weekly-briefing';
  const audience = readers.filter((reader) => reader.at < started);
  await db.insertInto('sends').values({ issue: slug, subject: `Weekly briefing, ${new Date(started).toISOString().slice(0, 10)}`, started_at: new Date(started).toISOString(), enqueued_at: new Date(started).toISOString(), completed_at: new Date(started + 40 * 60_000).toISOString(), excluded: 0 }).execute();
  const rows = [];
  for (const [index, reader] of audience.entries()) {
    const grey = reader.email.endsWith('@greylist.example');
    const roll = random();
    const state = roll < 0.004 ? 'failed' : roll < 0.006 ? 'deferred' : 'sent';
    const minute = grey ? 14 + random() * 20 : (index / audience.length) * 9 + random();
    rows.push({
      issue: slug,
      email_key: reader.email,
      email: reader.email,
      state,
      attempts: grey ? 2 : 1,
      reply: state === 'failed' ? '550 5.1.1 mailbox unavailable' : state === 'deferred' ? '451 4.7.1 try again later' : '250 2.0.0 queued',
      updated_at: new Date(started + minute * 60_000).toISOString(),
      attributes: '{}',
    });
  }
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('send_journal').values(rows.slice(i, i + 500)).execute();
  const sent = rows.filter((row) => row.state === 'sent');
  const take = (share) => sent.filter(() => random() < share);
  for (const row of take(0.003 + random() * 0.004)) await db.insertInto('unsubscribe_events').values({ issue: slug, email_key: row.email_key, how: random() < 0.7 ? 'one-click' : 'page', at: row.updated_at }).onConflict((c) => c.doNothing()).execute();
  for (const [i, row] of take(0.002).entries()) await db.insertInto('bounce_events').values({ source: 'sample', source_id: `${slug}-${i}`, email_key: row.email_key, email: row.email, issue: slug, kind: 'hard', status: '5.1.1', diagnostic: 'no such user', action: 'bounced', received_at: row.updated_at }).execute();
  const complaints = issue === 5 ? 0.0035 : 0.0004 + random() * 0.0006;
  for (const [i, row] of take(complaints).entries()) await db.insertInto('bounce_events').values({ source: 'sample', source_id: `${slug}-c${i}`, email_key: row.email_key, email: row.email, issue: slug, kind: 'complaint', status: null, diagnostic: null, action: 'complained', received_at: row.updated_at }).execute();
  for (const link of ['https://news.example/stories/harbour', 'https://news.example/support', 'https://news.example/events']) {
    await db.insertInto('link_clicks').values({ issue: slug, url: link, clicks: Math.round(sent.length * (0.02 + random() * 0.1)), first_at: new Date(started).toISOString(), last_at: new Date(started + day).toISOString() }).execute();
  }
}
await store.close();

function pick(weighted) {
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [name, weight] of weighted) if ((roll -= weight) < 0) return name;
  return weighted[weighted.length - 1][0];
}
