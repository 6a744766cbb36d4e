import type { Command } from 'commander';
import { formatDiagnostic, paint } from './print.js';

interface PreviewFlags {
  port: string;
  host: string;
  open?: boolean;
  db?: string;
  offline?: boolean;
}

export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description('show an issue in the browser, rebuilt live as you save it, its template or the config')
    .argument('<file>', 'the issue to preview')
    .option('-p, --port <n>', 'the port to listen on (0: any free port)', '4300')
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--open', 'open the preview in the default browser')
    .option('--offline', "the page's preflight skips the checks that need the network (DNS, links)")
    .option('--db <url>', 'the subscriber list to pick sample readers from (default: $DIGEST_DATABASE_URL, else sqlite:./digest.db if it exists)')
    .action(async (file: string, flags: PreviewFlags, command: Command) => {
      const { startPreview } = await import('../preview/index.js');
      const port = Number(flags.port);
      const { UserError } = await import('../errors.js');
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be a number from 0 to 65535, not "${flags.port}"`);
      const preview = await startPreview(file, { port, host: flags.host, configPath: command.optsWithGlobals().config, databaseUrl: flags.db, offline: flags.offline });
      const out = process.stderr;
      const colour = paint(out);
      out.write(`${colour.green('previewing')} ${file} at ${colour.bold(preview.url)}  (Ctrl-C to stop)\n`);
      preview.session.on('build', (state) => {
        if (state.error) out.write(`${formatDiagnostic(preview.session.diagnostics()[0]!, out)}\n`);
        else out.write(`${colour.dim(new Date().toLocaleTimeString())} rebuilt in ${Math.round(state.buildMs ?? 0)} ms\n`);
      });
      if (preview.session.state.error) out.write(`${formatDiagnostic(preview.session.diagnostics()[0]!, out)}\n`);
      if (flags.open) preview.openBrowser();
      await new Promise<void>((stop) => {
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await preview.close();
    });
}
