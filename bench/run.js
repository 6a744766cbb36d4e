// npm run bench [-- --quick]: every benchmark, side by side with its baseline in the same run;
// prints the table and writes it to docs/performance.md.
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const quick = process.argv.includes('--quick');
// --only NAME: one suite (send, import, …), its table printed and docs/performance.md left as it is.
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const suites = ['./build.js', './send.js', './http.js', './import.js', './unsubscribe.js', './clicks.js', './signup.js', './bounces.js', './preflight.js'].filter((suite) => !only || suite === `./${only}.js`);

const rows = [];
for (const suite of suites) {
  process.stderr.write(`running ${suite}${quick ? ' (quick)' : ''}…\n`);
  rows.push(...(await (await import(suite)).run({ quick })));
}

const digits = (unit) => (unit === 's' ? 3 : unit === 'msg/s' || unit === 'req/s' || unit === 'MB' ? 0 : 1);
const fmt = (s, unit) => `${s.median.toFixed(digits(unit))} ${unit} (${s.min.toFixed(digits(unit))}–${s.max.toFixed(digits(unit))})`;
const verdict = (r) => (r.judged === false ? '—' : r.met ? 'yes' : '**no**');
const lines = [
  '| figure | digest: median (min–max) | baseline in the same run | baseline: median (min–max) | ratio | target | met |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) =>
    r.absolute
      ? `| ${r.figure} | ${fmt(r.ours, r.unit)} | ${r.baselineName} | — | — | ${r.goal ?? `< ${r.target} ${r.unit}`} | ${verdict(r)} |`
      : `| ${r.figure} | ${fmt(r.ours, r.unit)} | ${r.baselineName} | ${fmt(r.baseline, r.unit)} | ${r.ratio.toFixed(2)}× | ${r.goal ?? `${r.higherIsBetter ? '≥' : '≤'} ${r.target}×`} | ${verdict(r)} |`,
  ),
];
const notes = rows.filter((r) => r.note).map((r) => `- ${r.figure}: ${r.note}`);
const table = [lines.join('\n'), ...(notes.length ? ['', 'Notes:', ...notes] : [])].join('\n');
process.stdout.write(`${table}\n`);

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
const doc = `# Performance

Measured by \`npm run bench\`${quick ? ' in quick mode (few runs: orientation only)' : ''} on ${new Date().toISOString().slice(0, 10)},
Node ${process.version}, ${machine}. Each figure is the median of several runs with min and max, measured
alternately with its baseline in the same run so both see the same machine load. Times are wall clock.

${table}
`;
if (!quick && !only) writeFileSync(fileURLToPath(new URL('../docs/performance.md', import.meta.url)), doc);
else process.stderr.write(`${quick ? 'quick mode' : 'one suite'}: docs/performance.md left as it was\n`);
