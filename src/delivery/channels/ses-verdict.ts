import type { Verdict } from './channel.js';
import type { RequestProgress } from './request-progress.js';

/**
 * A failed SES call as the channel reports it: the error's name (an AWS error code such as
 * `MessageRejected`, or a Node code such as `ECONNREFUSED`), the HTTP status if an answer came, and
 * whether the whole request had left before the call broke off. classifySes reads only this.
 */
export class SesFailure extends Error {
  override readonly name = 'SesFailure';

  constructor(
    readonly code: string,
    readonly detail: string,
    readonly progress: { status?: number; written: boolean; fromAws?: boolean },
    /** The address the message was sent from, to tell "the sender is not verified" from a recipient. */
    readonly from?: string,
    /** A Retry-After the provider gave with a throttled answer, in milliseconds. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(`${code}${progress.status ? ` (HTTP ${progress.status})` : ''}: ${detail}`, options);
  }

  /** Said "too many requests" about the rate: waiting a moment helps (a used-up daily quota is not this). */
  get throttled(): boolean {
    return (THROTTLED.has(this.code) || this.progress.status === 429) && !DAILY_QUOTA.test(this.detail);
  }
}

/** The SDK's error, or a network error beneath it, as a SesFailure. */
export function sesFailure(error: unknown, progress: RequestProgress, from?: string): SesFailure {
  if (error instanceof SesFailure) return error;
  const e = (error ?? {}) as {
    name?: string;
    code?: unknown;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $response?: { headers?: Record<string, string | undefined> };
  };
  const status = e.$metadata?.httpStatusCode ?? progress.status;
  // Node's network errors carry their errno in `code` (ECONNREFUSED); AWS's errors their code in `name`.
  const code = typeof e.code === 'string' && /^E[A-Z_]+$/.test(e.code) ? e.code : e.name || 'Error';
  const detail = oneLine(e.message || String(error));
  const retryAfter = Number(e.$response?.headers?.['retry-after']);
  // Every answer of an AWS service names its request; a proxy's or a wrong endpoint's does not.
  const fromAws = Boolean(progress.headers?.['x-amzn-requestid'] ?? progress.headers?.['x-amzn-errortype']);
  return new SesFailure(code, detail, { status, written: progress.written, fromAws }, from, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined, { cause: error });
}

/** Rate limits: worth a short wait. */
const THROTTLED = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'ThrottledException', 'RequestThrottled']);
/** SES says a used-up daily quota as a throttling error: no short wait helps. */
const DAILY_QUOTA = /daily (message |sending )?quota/i;
/** AWS did not accept who we are: nothing will go through with these credentials. */
const CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'IncompleteSignatureException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'ExpiredToken',
  'ExpiredTokenException',
  'AccessDeniedException',
  'AccessDenied',
  'NotAuthorized',
  'OptInRequired',
  'RequestExpired',
  'InvalidAccessKeyId',
]);
/** The account cannot send at all, whoever the reader. */
const ACCOUNT: Record<string, string> = {
  AccountSuspendedException: "the account's ability to send email is suspended",
  SendingPausedException: "sending is paused for the account (or for the configuration set)",
  MailFromDomainNotVerifiedException: 'the MAIL FROM domain is not verified',
  NotFoundException: 'the configuration set does not exist in this region',
  LimitExceededException: "the account's sending limit is used up",
};
const SERVER = new Set(['InternalFailure', 'InternalServiceErrorException', 'InternalServerError', 'ServiceUnavailable', 'ServiceUnavailableException']);
/** Nothing there to talk to: no byte of the message reached SES. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * What a failed SES call means. SES answers SendEmail before it delivers, so no answer is a bounce:
 * bounces come later, by notification. An answer that came is read by its error code; without one,
 * what matters is whether the whole request had left (see RequestProgress): SendEmail has no
 * idempotency key, so a request that may have arrived is not made again.
 */
export function classifySes(error: unknown): Verdict {
  if (!(error instanceof SesFailure)) {
    // Not a call to SES that failed (a DKIM key that cannot sign, say): nothing will go out.
    return { kind: 'down', reply: (error as Error)?.message ?? String(error) };
  }
  const { code, detail, progress } = error;
  const reply = error.message;
  const status = progress.status;
  if (status !== undefined) {
    if (status >= 200 && status < 300) return { kind: 'unknown', reply: `SES answered ${status} but the answer could not be read (${reply}); the message may have been accepted` };
    if (DAILY_QUOTA.test(detail)) return { kind: 'down', reply: `the account's daily sending quota is used up: ${reply}` };
    if (error.throttled) return { kind: 'retry', reply: `SES is still throttling after waiting: ${reply}` };
    if (CREDENTIALS.has(code) || status === 401 || status === 403) return { kind: 'down', reply: `AWS refused the credentials: ${reply}` };
    if (ACCOUNT[code]) return { kind: 'down', reply: `${ACCOUNT[code]}: ${reply}` };
    if (status >= 500 || SERVER.has(code)) return { kind: 'retry', reply };
    if (code === 'MessageRejected' && senderUnverified(detail, error.from)) return { kind: 'down', reply: `the sender's address is not verified in this region: ${reply}` };
    // An answer that is not from SES (a wrong endpoint, a proxy) would say the same about every reader.
    if (!progress.fromAws || code === 'Unknown') return { kind: 'down', reply: `the endpoint did not answer as SES does: ${reply}` };
    // MessageRejected, BadRequestException and any other refusal of this one request.
    return { kind: 'failed', reply, bounce: false };
  }
  if (code === 'CredentialsProviderError') return { kind: 'down', reply: `no AWS credentials were found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE): ${detail}` };
  if (progress.written) return { kind: 'unknown', reply: `no answer after the whole request was sent (${reply}); SES may have accepted the message` };
  if (UNREACHABLE.has(code)) return { kind: 'down', reply: `SES is not reachable: ${reply}` };
  // Cut off, timed out or stopped before the whole request was out: SES cannot have acted on it.
  return { kind: 'retry', reply };
}

/**
 * "Email address is not verified. The following identities failed the check in region …: a, b":
 * when the sender is among them, no reader's message can go.
 */
function senderUnverified(detail: string, from?: string): boolean {
  if (!from || !/not verified/i.test(detail)) return false;
  const listed = detail.slice(detail.lastIndexOf(':') + 1).toLowerCase();
  const address = from.toLowerCase();
  const domain = address.split('@')[1] ?? '';
  return listed.split(/[\s,]+/).some((identity) => identity === address || identity === domain);
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}
