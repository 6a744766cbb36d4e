import { Command, CommanderError } from 'commander';
import { explainFailure } from '../errors.js';
import { registerArchive } from './archive.js';
import { registerBounces } from './bounces.js';
import { registerBuild } from './build.js';
import { registerCheck } from './check.js';
import { registerInit } from './init.js';
import { registerPreview } from './preview.js';
import { registerReport } from './report.js';
import { registerSend } from './send.js';
import { registerStatus } from './status.js';
import { registerServe } from './serve.js';
import { registerSubscribers } from './subscribers.js';
import { version } from './version.js';

/**
 * Wires the commands. Each command file only declares its flags and hands over to a stage that it
 * imports when run, so `digest --help` never loads mjml or a database driver.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('digest')
    .description('Compile Markdown newsletter issues into responsive email, and send them exactly once per reader.')
    .version(version(), '-V, --version')
    .option('--config <file>', 'the config file (default: ./digest.config.yaml)')
    .option('--debug', 'show stack traces for errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  registerBuild(program);
  registerCheck(program);
  registerInit(program);
  registerPreview(program);
  registerSend(program);
  registerStatus(program);
  registerSubscribers(program);
  registerArchive(program);
  registerServe(program);
  registerBounces(program);
  registerReport(program);

  process.stdout.on('error', stopOnClosedPipe);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (isClosedPipe(error)) return CLOSED_PIPE;
    const debug = program.opts().debug || argv.includes('--debug');
    const explained = explainFailure(error);
    if (explained) {
      process.stderr.write(`digest: ${explained.located}\n`);
      if (debug) process.stderr.write(`${explained === error ? explained.stack : (error as Error).stack}\n`);
      return 1;
    }
    // A bug in digest: keep the stack, it is what a bug report needs.
    process.stderr.write(`digest: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 70;
  }
}

/**
 * The status of a process whose reader went away (`digest subscribers export | head`): what a
 * native tool killed by SIGPIPE ends with (128 + 13). Node ignores that signal, and writing on would
 * raise an error per write, so digest stops the same way, silently: the reader asked for no more.
 */
const CLOSED_PIPE = 141;

const isClosedPipe = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';

function stopOnClosedPipe(error: Error): void {
  if (!isClosedPipe(error)) throw error;
  process.exit(CLOSED_PIPE);
}
