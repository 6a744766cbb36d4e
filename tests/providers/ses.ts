/**
 * A stand-in for Amazon SES's v2 API on 127.0.0.1, for the real AWS SDK to talk to: the two calls
 * digest makes (`POST /v2/email/outbound-emails`, `GET /v2/email/account`), SigV4 signatures checked
 * for real against the keys it was given, and errors answered as the service answers them (status,
 * `x-amzn-ErrorType`, a JSON body with `message`) so that the SDK turns them into its own exception
 * classes. It keeps what it accepts and can misbehave on purpose.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { simpleParser, type ParsedMail } from 'mailparser';

/**
 * What the server does with one SendEmail call, by its first recipient and how many times that
 * recipient's message was sent (counting only calls that were signed correctly):
 * - `accept`, or a promise of it (to answer late, holding the message in flight);
 * - `throttle`: 429 TooManyRequestsException ("Maximum sending rate exceeded");
 * - `quota`: TooManyRequestsException "Daily message quota exceeded";
 * - `error500`: 500 InternalFailure;
 * - `drop`: the whole request is read, then the connection is cut without an answer;
 * - `silent`: the whole request is read and never answered;
 * - `{ status, type, message }`: any error the service can give (MessageRejected, …).
 */
export type SesAnswer = 'accept' | 'throttle' | 'quota' | 'error500' | 'drop' | 'silent' | SesError;
export type SesBehaviour = (recipient: string, attempt: number) => SesAnswer | Promise<SesAnswer>;
export interface SesError {
  status: number;
  type: string;
  message: string;
}

export const TEST_KEYS = { accessKeyId: 'AKIDTESTDIGEST000001', secretAccessKey: 'digest/test/secret+key/not-a-real-one/0123456' };

export interface SesReceived {
  recipients: string[];
  from: string;
  configurationSet?: string;
  raw: Buffer;
  parsed?: ParsedMail;
  messageId: string;
  /** When the server answered 200 (Date.now()). */
  at: number;
}

/** The account as GetAccount reports it; tests change it to pause or shut down sending. */
export interface SesAccount {
  SendingEnabled: boolean;
  ProductionAccessEnabled: boolean;
  EnforcementStatus: 'HEALTHY' | 'PROBATION' | 'SHUTDOWN';
}

export interface SesServerOptions {
  behaviour?: SesBehaviour;
  region?: string;
  keys?: { accessKeyId: string; secretAccessKey: string };
  /** Parse every accepted message with mailparser (a millisecond each: suites that only count skip it). */
  parse?: boolean;
  /** A Retry-After (seconds) sent with each throttled answer. */
  retryAfter?: number;
}

export async function startSes(options: SesServerOptions = {}) {
  const region = options.region ?? 'us-east-1';
  const keys = options.keys ?? TEST_KEYS;
  const behaviour = options.behaviour ?? (() => 'accept' as const);
  const received: SesReceived[] = [];
  /** Recipients whose whole request came in and was never answered: a client cannot know their fate. */
  const unanswered: string[] = [];
  const attempts = new Map<string, number>();
  /** Every call that reached the server, signed or not: method and path, and the error answered if any. */
  const calls: { path: string; error?: string }[] = [];
  const account: SesAccount = { SendingEnabled: true, ProductionAccessEnabled: true, EnforcementStatus: 'HEALTHY' };

  const faults = {
    /** Cut each SendEmail connection as soon as its head arrives, before the body is read. */
    cutShort: false,
    /** Refuse GetAccount as IAM does to a key allowed to send and nothing else. */
    denyAccountRead: false,
  };

  const server = createServer(async (request, response) => {
    const call: { path: string; error?: string } = { path: `${request.method} ${request.url}` };
    calls.push(call);
    if (faults.cutShort && request.url === '/v2/email/outbound-emails') {
      call.error = 'cut';
      return void request.socket.destroy();
    }
    let body: Buffer;
    try {
      body = await readBody(request);
    } catch {
      // The client went away part-way through its request (killed, or it gave up).
      call.error = 'incomplete';
      return;
    }
    const fail = (error: SesError) => {
      call.error = error.type;
      answerError(response, error);
    };
    const refused = checkSignature(request, body, keys, region);
    if (refused) return fail(refused);

    if (request.method === 'GET' && request.url === '/v2/email/account') {
      if (faults.denyAccountRead) {
        return fail({ status: 403, type: 'AccessDeniedException', message: `User: arn:aws:iam::123456789012:user/digest is not authorized to perform: ses:GetAccount` });
      }
      return answerJson(response, 200, { ...account, DedicatedIpAutoWarmupEnabled: false, SendQuota: { Max24HourSend: 50_000, MaxSendRate: 14, SentLast24Hours: received.length } });
    }
    if (request.method !== 'POST' || request.url !== '/v2/email/outbound-emails') {
      return fail({ status: 404, type: 'UnknownOperationException', message: `no such operation: ${call.path}` });
    }
    let input: { FromEmailAddress?: string; Destination?: { ToAddresses?: string[] }; Content?: { Raw?: { Data?: string } }; ConfigurationSetName?: string };
    try {
      input = JSON.parse(body.toString('utf8'));
    } catch {
      return fail({ status: 400, type: 'SerializationException', message: 'the body is not JSON' });
    }
    const recipients = input.Destination?.ToAddresses ?? [];
    const data = input.Content?.Raw?.Data;
    if (!data || !recipients.length) return fail({ status: 400, type: 'BadRequestException', message: 'Raw content and at least one destination are required' });
    if (account.EnforcementStatus === 'SHUTDOWN') return fail({ status: 400, type: 'AccountSuspendedException', message: 'Your account has been suspended.' });
    if (!account.SendingEnabled) return fail({ status: 400, type: 'SendingPausedException', message: 'Sending is paused for this account.' });
    if (input.ConfigurationSetName && input.ConfigurationSetName !== 'digest') {
      return fail({ status: 404, type: 'NotFoundException', message: `Configuration set <${input.ConfigurationSetName}> does not exist.` });
    }

    const recipient = recipients[0]!;
    const attempt = (attempts.get(recipient) ?? 0) + 1;
    attempts.set(recipient, attempt);
    let answer: SesAnswer;
    try {
      answer = await behaviour(recipient, attempt);
    } catch (error) {
      answer = { status: 500, type: 'InternalFailure', message: String(error) };
    }
    if (answer === 'drop' || answer === 'silent') {
      unanswered.push(recipient);
      call.error = answer;
      if (answer === 'drop') request.socket.destroy();
      return;
    }
    if (answer === 'throttle') {
      if (options.retryAfter) response.setHeader('Retry-After', String(options.retryAfter));
      return fail({ status: 429, type: 'TooManyRequestsException', message: 'Maximum sending rate exceeded.' });
    }
    if (answer === 'quota') return fail({ status: 429, type: 'TooManyRequestsException', message: 'Daily message quota exceeded.' });
    if (answer === 'error500') return fail({ status: 500, type: 'InternalFailure', message: 'We encountered an internal error. Please try again.' });
    if (answer !== 'accept') return fail(answer);
    // The client may have given up while the answer was held back: then it never hears it.
    if (request.socket.destroyed) {
      unanswered.push(recipient);
      call.error = 'gone';
    }
    const raw = Buffer.from(data, 'base64');
    const messageId = `0100019${randomUUID().replace(/-/g, '')}-000000`;
    received.push({
      recipients,
      from: input.FromEmailAddress ?? '',
      configurationSet: input.ConfigurationSetName,
      raw,
      parsed: options.parse === false ? undefined : await simpleParser(raw),
      messageId,
      at: Date.now(),
    });
    answerJson(response, 200, { MessageId: messageId });
  });
  // A client killed mid-request resets its connection: expected here, not a failure.
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', () => ready()));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    region,
    received,
    unanswered,
    attempts,
    calls,
    account,
    faults,
    /** How many copies of a message each recipient was accepted. */
    perRecipient(): Map<string, number> {
      const copies = new Map<string, number>();
      for (const message of received) for (const recipient of message.recipients) copies.set(recipient, (copies.get(recipient) ?? 0) + 1);
      return copies;
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((done) => server.close(() => done()));
    },
  };
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => done(Buffer.concat(chunks)));
    request.on('error', fail);
    request.on('close', () => request.complete || fail(new Error('the request ended before its body')));
  });
}

function answerJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.destroyed) return;
  response.writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-RequestId': randomUUID() });
  response.end(JSON.stringify(body));
}

/** As the service says an error: the type in x-amzn-ErrorType (with the namespace after a colon) and the text in the body. */
function answerError(response: ServerResponse, error: SesError): void {
  if (response.destroyed) return;
  response.writeHead(error.status, {
    'Content-Type': 'application/json',
    'x-amzn-RequestId': randomUUID(),
    'x-amzn-ErrorType': `${error.type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/`,
  });
  response.end(JSON.stringify({ message: error.message }));
}

/**
 * AWS Signature Version 4, checked as the service checks it: the key id must be known, the scope
 * must name this region and the service `ses`, and the signature must be the one the secret key
 * gives for this very request (method, path, query, signed headers, body).
 */
function checkSignature(request: IncomingMessage, body: Buffer, keys: { accessKeyId: string; secretAccessKey: string }, region: string): SesError | undefined {
  const authorization = request.headers.authorization;
  if (!authorization) return { status: 403, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(authorization);
  if (!match) return { status: 400, type: 'IncompleteSignatureException', message: 'Authorization header requires Credential, SignedHeaders and Signature.' };
  const [, keyId, day, scopeRegion, service, signedHeaders, signature] = match as unknown as string[];
  if (keyId !== keys.accessKeyId) return { status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
  if (service !== 'ses') return { status: 403, type: 'InvalidSignatureException', message: "Credential should be scoped to correct service: 'ses'." };
  if (scopeRegion !== region) return { status: 403, type: 'InvalidSignatureException', message: `Credential should be scoped to a valid region, not '${scopeRegion}'.` };
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  const url = new URL(request.url ?? '/', 'http://localhost');
  const query = [...url.searchParams].map(([k, v]) => [encode(k), encode(v)]).sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('&');
  const names = signedHeaders!.split(';');
  const canonicalHeaders = names.map((name) => `${name}:${String(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = String(request.headers['x-amz-content-sha256'] ?? createHash('sha256').update(body).digest('hex'));
  const canonicalRequest = [request.method, url.pathname.split('/').map((segment) => encode(decodeURIComponent(segment))).join('/'), query, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${day}/${scopeRegion}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  let key: Buffer = Buffer.from(`AWS4${keys.secretAccessKey}`);
  for (const part of [day!, scopeRegion!, service!, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  if (expected !== signature) {
    return { status: 403, type: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.' };
  }
  return undefined;
}

/** SigV4's URI encoding: RFC 3986 unreserved characters stay, everything else is %XX. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
