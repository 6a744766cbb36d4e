// digest build against the raw mjml CLI, whole processes; a warm rebuild against one bare
// mjml2html; `digest --help` against `node -e 0`. All on the sample issue, in the same run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareCalls, compareProcesses, row } from './lib.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'digest.js');
const mjmlCli = join(root, 'node_modules', 'mjml', 'bin', 'mjml');
const issue = join(root, 'issues', '2024-03-08-weekly.md');

export async function run({ quick }) {
  const work = mkdtempSync(join(tmpdir(), 'digest-bench-build-'));
  try {
    const runs = quick ? 3 : 15;
    // The equivalent MJML is what digest itself composed for the issue.
    timeOnce(work);
    const mjmlFile = join(work, 'out', '2024-03-08-weekly', 'email.mjml');
    const mjml = readFileSync(mjmlFile, 'utf8');
    const node = process.execPath;
    const env = { ...process.env, NO_COLOR: '1' };

    const whole = compareProcesses(
      runs,
      [node, [bin, 'build', issue, '--out', join(work, 'out')], { cwd: root, env }],
      [node, [mjmlCli, mjmlFile, '-o', join(work, 'raw.html')], { cwd: root, env }],
    );
    const help = compareProcesses(runs, [node, [bin, '--help'], { cwd: root, env }], [node, ['-e', '0'], { cwd: root, env }]);

    // The preview's case: the process is warm, the template cached; one issue is rebuilt.
    const { loadConfig } = await import(join(root, 'dist', 'config.js'));
    const { loadIssue } = await import(join(root, 'dist', 'issue', 'load.js'));
    const { renderIssue, TemplateCache } = await import(join(root, 'dist', 'render', 'index.js'));
    const config = await loadConfig({ cwd: root });
    const templates = new TemplateCache();
    const mjml2html = createRequire(join(root, 'package.json'))('mjml');
    const warm = await compareCalls(
      quick ? 5 : 30,
      async () => renderIssue(await loadIssue(issue), config, templates),
      async () => mjml2html(mjml, { validationLevel: 'soft', keepComments: false, fonts: {} }),
    );
    return [
      row({ figure: '`digest build` of a sample issue, whole process', unit: 's', ours: whole.ours, baseline: whole.baseline, baselineName: '`mjml` CLI on the equivalent MJML', target: 1.1 }),
      row({ figure: 'rebuild in a warm process (preview)', unit: 'ms', ours: warm.ours, baseline: warm.baseline, baselineName: 'one bare `mjml2html` of it', target: 3 }),
      row({ figure: '`digest --help`, whole process', unit: 's', ours: help.ours, baseline: help.baseline, baselineName: '`node -e 0`', target: 2 }),
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One build first, for the MJML it writes. */
function timeOnce(work) {
  compareProcesses(0, [process.execPath, [bin, 'build', issue, '--out', join(work, 'out')], { cwd: root }], [process.execPath, ['-e', '0']]);
}
