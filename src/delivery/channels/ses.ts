import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { GetAccountCommand, SendEmailCommand, SESv2Client, type SESv2ClientConfig } from '@aws-sdk/client-sesv2';
import { UserError } from '../../errors.js';
import { redact } from '../../redact.js';
import { AbandonedDelivery, type Channel, type ChannelSettings } from './channel.js';
import { watchProgress, withProgress, type RequestProgress } from './request-progress.js';
import { classifySes, SesFailure, sesFailure } from './ses-verdict.js';
import { backoff, SharedPause } from './shared-pause.js';

/** Throttled answers one delivery waits out before it gives up for now (the send loop retries later). */
const THROTTLE_WAITS = 5;
const THROTTLE_BASE_MS = 100;
const THROTTLE_CAP_MS = 2_000;
/**
 * How long an idle connection is kept. Short, so that a connection is never reused just as the far
 * end closes it: a request lost that way has been written whole and would have to count as unknown.
 */
const IDLE_MS = 4_000;

/**
 * `ses://REGION[?configuration_set=NAME][&endpoint=URL]`: Amazon SES through its v2 API and the
 * official SDK. Our own MIME goes as it is (Content.Raw), DKIM-signed like every other route's.
 * Credentials come from the usual AWS chain (the environment, then profiles and roles), never from
 * the URL, and are never printed.
 *
 * The SDK's own retries are off: SendEmail has no idempotency key, so a retry of a request whose
 * answer was lost could send a second copy; the send loop retries, knowing which failures are safe
 * to retry. Throttling is the exception: it is a clear "not now", waited out here.
 */
export function sesChannel(url: string, settings: ChannelSettings): Channel {
  const route = parseSesUrl(url);
  // digest supports the Node it says it does: the SDK's notice about its own future versions is
  // for whoever upgrades it, not for every send.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const agentOptions = { keepAlive: true, maxSockets: settings.concurrency, maxFreeSockets: settings.concurrency, timeout: IDLE_MS };
  // Plain http only for an endpoint that says so (a local stand-in, a VPC endpoint behind a proxy).
  const agents = route.endpoint?.startsWith('http:') ? { httpAgent: watchProgress(new HttpAgent(agentOptions)) } : { httpsAgent: watchProgress(new HttpsAgent(agentOptions)) };
  const config: SESv2ClientConfig = {
    region: route.region,
    maxAttempts: 1,
    logger: quiet,
    requestHandler: {
      ...agents,
      connectionTimeout: settings.timeoutMs,
      requestTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
      // Without it the handler only logs a request that ran out of time and goes on waiting.
      throwOnRequestTimeout: true,
    },
  };
  if (route.endpoint) config.endpoint = route.endpoint;
  const credentials = credentialsFrom(settings.env);
  if (credentials) config.credentials = credentials;
  else if (settings.env.AWS_PROFILE) config.profile = settings.env.AWS_PROFILE;
  const client = new SESv2Client(config);
  const pause = new SharedPause();
  const inFlight = new Set<AbortController>();
  let closed = false;
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    client.destroy();
  };

  return {
    description: route.description,
    real: true,
    // SES takes no SMTPUTF8: an address must be ASCII (a Unicode domain as punycode).
    internationalOk: false,
    async verify() {
      let account;
      const progress: RequestProgress = { written: false };
      try {
        account = await withProgress(progress, () => client.send(new GetAccountCommand({})));
      } catch (error) {
        const failure = sesFailure(error, progress);
        // The credentials were accepted, only reading the account is not allowed: a policy that
        // grants ses:SendRawEmail alone is common, and sending may well work.
        if (failure.code === 'AccessDeniedException' || failure.code === 'AccessDenied') return;
        throw new UserError(`cannot send through ${route.description}: ${classifySes(failure).reply}`, { code: 'route-unavailable', cause: failure });
      }
      if (account.SendingEnabled === false) {
        throw new UserError(`cannot send through ${route.description}: sending is paused for this AWS account in ${route.region}`, { code: 'route-unavailable' });
      }
      if (account.EnforcementStatus === 'SHUTDOWN') {
        throw new UserError(`cannot send through ${route.description}: SES has shut down sending for this AWS account in ${route.region}`, { code: 'route-unavailable' });
      }
    },
    async deliver(message, options = {}) {
      if (closed) throw new SesFailure('EABORT', 'the channel is closed', { written: false });
      // Signed while the journal commits; a failure is thrown below, when the bytes are needed.
      const signed = settings.dkim ? settings.dkim.sign(message) : Promise.resolve(message.raw);
      signed.catch(() => {});
      // Not a byte goes to SES before the journal has said yes.
      if (options.ready && !(await options.ready.catch(() => false))) throw new AbandonedDelivery();
      const input = {
        // The verified sending identity, not a tagged bounce address: SES reports bounces itself (webhooks).
        FromEmailAddress: message.sender,
        Destination: { ToAddresses: message.envelope.to },
        Content: { Raw: { Data: await signed } },
        ConfigurationSetName: route.configurationSet,
      };
      const controller = new AbortController();
      inFlight.add(controller);
      try {
        for (let throttled = 0; ; throttled++) {
          const progress: RequestProgress = { written: false };
          try {
            await pause.wait(controller.signal);
            const answer = await withProgress(progress, () => client.send(new SendEmailCommand(input), { abortSignal: controller.signal }));
            return { reply: `ses ${answer.MessageId ?? '(no message id)'}` };
          } catch (error) {
            const failure = sesFailure(error, progress, message.sender);
            // A throttled request was refused whole: making it again cannot send a second copy.
            if (!failure.throttled || throttled >= THROTTLE_WAITS || controller.signal.aborted) throw failure;
            pause.extend(Math.max(failure.retryAfterMs ?? 0, backoff(throttled, THROTTLE_BASE_MS, THROTTLE_CAP_MS)));
          }
        }
      } finally {
        inFlight.delete(controller);
        if (closed && !inFlight.size) destroy();
      }
    },
    classify: classifySes,
    close() {
      closed = true;
      if (!inFlight.size) destroy();
    },
    abort() {
      closed = true;
      for (const controller of inFlight) controller.abort();
      destroy();
    },
  };
}

export interface SesRoute {
  region: string;
  endpoint?: string;
  configurationSet?: string;
  /** `ses (eu-west-1)`, with the endpoint when one is given. */
  description: string;
}

/** Reads `ses://REGION?…`; refuses, before anything is opened, what it cannot use. */
export function parseSesUrl(url: string): SesRoute {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(url, 'is not a valid URL (expected ses://REGION, such as ses://eu-west-1)');
  }
  if (parsed.username || parsed.password) {
    throw invalid(url, 'must not hold credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE');
  }
  const region = parsed.hostname.toLowerCase();
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw invalid(url, `names no AWS region (expected ses://REGION, such as ses://eu-west-1)`);
  if (parsed.port || (parsed.pathname && parsed.pathname !== '/')) throw invalid(url, 'must be ses://REGION with nothing after the region but ?configuration_set= or ?endpoint=');
  const route: SesRoute = { region, description: `ses (${region})` };
  for (const [name, value] of parsed.searchParams) {
    if (name === 'configuration_set' && value) route.configurationSet = value;
    else if (name === 'endpoint' && /^https?:\/\/[^/]/i.test(value)) {
      route.endpoint = value;
      route.description = `ses (${region} at ${redact(value)})`;
    } else throw invalid(url, `has an unknown or empty setting "${name}" (known: configuration_set, endpoint=http(s)://…)`);
  }
  return route;
}

function invalid(url: string, what: string): UserError {
  return new UserError(`the SES URL ${redact(url)} ${what}`, { code: 'invalid-delivery-url' });
}

/**
 * Keys from the environment digest was given, when it holds them; otherwise the SDK's own chain
 * (profiles, SSO, the instance's role) finds them.
 */
function credentialsFrom(env: NodeJS.ProcessEnv): SESv2ClientConfig['credentials'] {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = env;
  return accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken: sessionToken || undefined } : undefined;
}

/** The SDK logs nothing of ours: its failures reach the send as errors, which say what happened. */
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
