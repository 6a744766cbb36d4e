// Writes tests/fixtures/bounces/set-of-emails/expected.tsv: the verdicts Sisimai publishes for the
// set-of-emails corpus, taken from go-sisimai's own tests (fact/NN-<engine>_test.go, the
// `publiclist` rows: Label, Index, Status, ReplyCode, Reason, HardBounce, AnotherOne).
// Run once, by hand, on a snapshot of github.com/sisimai/go-sisimai (BSD 2-Clause, see the
// LICENSE.go-sisimai beside the TSV):
//   node bench/tools/sisimai-expected.mjs /path/to/go-sisimai/fact
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const facts = process.argv[2];
if (!facts) throw new Error('usage: node bench/tools/sisimai-expected.mjs GO_SISIMAI/fact');
const corpus = fileURLToPath(new URL('../../tests/fixtures/bounces/set-of-emails/', import.meta.url));
const rows = ['# file\tindex\tstatus\treply\treason\thard\tfeedback'];
let missing = 0;
for (const name of readdirSync(facts).sort()) {
  const engine = /^\d+-((?:lhost|rhost)-[a-z0-9]+|rfc3464|rfc3834|arf)_test\.go$/.exec(name)?.[1];
  if (!engine) continue;
  const text = readFileSync(join(facts, name), 'utf8');
  const publicPart = text.slice(text.indexOf('publiclist'), text.indexOf('EngineTest', text.indexOf('publiclist')));
  for (const [, label, index, status, reply, reason, hard, another] of publicPart.matchAll(/\{"(\d+)",\s*(\d+),\s*"([^"]*)",\s*"([^"]*)",\s*"([^"]*)",\s*(true|false),\s*"([^"]*)"\}/g)) {
    const file = `${engine}-${label}.eml`;
    if (!existsSync(join(corpus, 'maildir', 'bsd', file))) {
      missing++;
      continue;
    }
    rows.push([file, index, status, reply, reason, hard, another].join('\t'));
  }
}
writeFileSync(join(corpus, 'expected.tsv'), `${rows.join('\n')}\n`);
process.stderr.write(`${rows.length - 1} verdicts written; ${missing} rows name a file not in the corpus\n`);
