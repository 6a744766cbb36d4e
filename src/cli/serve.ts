import type { Command } from 'commander';

interface ServeFlags {
  port: string;
  host: string;
  db?: string;
}

/** `digest serve`: one-click unsubscribe, tracked links' redirect, the web archive, sign-up and bounce webhooks, behind a reverse proxy (docs/deploy.md). */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve one-click unsubscribe links, the redirect of tracked links (docs/tracking.md), the web archive, (signup.enabled) the sign-up form, (when configured) providers\' bounce webhooks and (DIGEST_REPORT_TOKEN) the report over the subscriber database (behind a reverse proxy: see docs/deploy.md)')
    .option('-p, --port <n>', 'the port to listen on (0: any free port)', '4310')
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .option('--db <url>', 'the subscriber database: sqlite:FILE or postgres://… (default: DIGEST_DATABASE_URL, else sqlite:./digest.db)')
    .action(async (flags: ServeFlags, command: Command) => {
      const [{ UserError }, { loadConfig }, { unsubscribeKey }, { routes, startServer }, { openStore }, { databaseUrl, redact }, { webhooksFrom }, { clickKey, readerKey }, { reportToken }] = await Promise.all([
        import('../errors.js'),
        import('../config.js'),
        import('../delivery/unsubscribe.js'),
        import('../serve/index.js'),
        import('../audience/open.js'),
        import('../audience/location.js'),
        import('../bounces/webhooks/index.js'),
        import('../tracking/token.js'),
        import('../serve/report.js'),
      ]);
      const port = Number(flags.port);
      if (!/^\d+$/.test(flags.port) || port > 65535) throw new UserError(`--port must be a number from 0 to 65535, not "${flags.port}"`, { code: 'invalid-flags' });
      const config = await loadConfig({ path: command.optsWithGlobals().config });
      const key = unsubscribeKey(process.env.DIGEST_SECRET);
      // Always: links sent while tracking was on keep leading where they led after it is turned off.
      const clicks = { link: clickKey(process.env.DIGEST_SECRET), reader: readerKey(process.env.DIGEST_SECRET) };
      const paths = routes(config);
      const webhooks = webhooksFrom(config, process.env);
      const token = reportToken(process.env.DIGEST_REPORT_TOKEN);
      const url = databaseUrl(flags.db);
      const store = await openStore(url);
      const line = (entry: Record<string, unknown>) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', ...entry })}\n`);
      let signup;
      let running;
      try {
        // Sign-up: confirmations go out through the same routes as a send.
        signup = config.signup.enabled ? await (await import('../signup/service.js')).startSignup(config, store, { log: line }) : undefined;
        running = await startServer({ config, store, key, host: flags.host, port, signup, webhooks, clicks, reportToken: token });
      } catch (error) {
        await signup?.close();
        await store.close();
        throw error;
      }
      line({
        msg: 'listening',
        url: running.url,
        unsubscribe: `${paths.unsubscribe}/`,
        archive: `${paths.archive}/`,
        clicks: paths.clicks,
        counting: config.tracking.clicks ? (config.tracking.perReader ? 'per link and reader' : 'per link') : 'off',
        ...(signup ? { subscribe: `${paths.archive}/subscribe`, confirm: `${paths.archive}/confirm` } : {}),
        ...(webhooks ? { webhooks: webhooks.providers.map((provider) => `/webhooks/${provider}`) } : {}),
        ...(token ? { report: `${paths.archive}/report` } : {}),
        health: '/healthz',
        database: redact(url),
        site: config.outDir,
      });
      const signal = await new Promise<string>((stop) => {
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      line({ msg: 'stopping', signal });
      await running.close();
      await signup?.close();
      await store.close();
      line({ msg: 'stopped' });
    });
}
