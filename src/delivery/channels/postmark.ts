import type { Channel, ChannelSettings, Verdict } from './channel.js';
import { classifyHttp, HttpClient, verifyRoute, type HttpAnswer, type HttpFailure } from './http.js';
import { mailbox } from './mailbox.js';
import { missingCredential, readProviderUrl } from './provider-url.js';

/**
 * `postmark://[TOKEN@][HOST][?stream=broadcast]`: Postmark's Email API (POST /email, one reader a
 * request), authenticated by a server token (the URL's, or POSTMARK_SERVER_TOKEN). Postmark builds
 * the MIME from fields and signs it with its own DKIM key; our List-* headers and Message-ID go
 * along as custom headers. A Broadcast stream adds Postmark's own unsubscribe link and List-*
 * headers unless the stream is set to manage unsubscribes yourself.
 */
export function postmarkChannel(url: string, settings: ChannelSettings): Channel {
  const route = readProviderUrl(url, {
    provider: 'postmark',
    variable: 'POSTMARK_SERVER_TOKEN',
    env: settings.env,
    defaultHost: 'api.postmarkapp.com',
    apiBase: (host) => `https://${host}`,
    example: 'postmark://TOKEN@api.postmarkapp.com?stream=broadcast, or postmark:// with POSTMARK_SERVER_TOKEN set',
  });
  const stream = route.params.get('stream') || 'broadcast';
  const token = route.credential;
  const client = new HttpClient({
    provider: 'postmark',
    base: route.base,
    concurrency: settings.concurrency,
    timeoutMs: settings.timeoutMs,
    headers: { accept: 'application/json', ...(token ? { 'x-postmark-server-token': token } : {}) },
    secrets: token ? [token] : [],
    errorText,
  });
  return {
    description: route.description,
    real: true,
    // Postmark's address check takes ASCII local parts only.
    internationalOk: false,
    async verify() {
      if (!token) throw missingCredential(route, 'Postmark server token');
      await verifyRoute(client, route.description, { method: 'GET', path: '/server' });
    },
    async deliver(message, options = {}) {
      if (!token) throw missingCredential(route, 'Postmark server token');
      const fields = message.fields();
      const body = {
        From: mailbox(fields.fromName, fields.fromAddress),
        To: mailbox(fields.toName, fields.to),
        Subject: fields.subject,
        HtmlBody: fields.html,
        TextBody: fields.text,
        Headers: Object.entries(fields.headers).map(([Name, Value]) => ({ Name, Value })),
        MessageStream: stream,
        TrackOpens: false,
        TrackLinks: 'None',
      };
      const answer = await client.send({
        method: 'POST',
        path: '/email',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(body)),
        ready: options.ready,
      });
      const id = (answer.json as { MessageID?: string } | undefined)?.MessageID;
      return { reply: `postmark ${answer.status} ${id ?? '(no MessageID)'}` };
    },
    classify: (error) => classifyHttp(error, classifyPostmark),
    close: () => client.close(),
    abort: () => client.abort(),
  };
}

function errorText(answer: HttpAnswer): string {
  const { ErrorCode, Message } = (answer.json ?? {}) as { ErrorCode?: number; Message?: string };
  if (Message === undefined) return answer.text;
  return ErrorCode ? `${Message} (ErrorCode ${ErrorCode})` : Message;
}

/** Postmark's API error codes (https://postmarkapp.com/developer/api/overview#error-codes). */
const ACCOUNT_CODES = new Set([
  10, // bad or missing server token
  400, // sender signature not found
  401, // sender signature not confirmed
  405, // not allowed to send (out of credits)
  412, // account pending
  413, // account may not send
]);

/**
 * A 422 carries Postmark's ErrorCode: 406 is a recipient Postmark has made inactive (an earlier
 * hard bounce, a spam complaint or a manual suppression: its list, not a bounce of this message);
 * 300 an invalid message, a bounce when the address it faults is the reader's (`'To'`); the
 * account and sender codes take the route down; any other code is a malformed request, failed.
 */
function classifyPostmark(failure: HttpFailure & { status: number }): Verdict | undefined {
  if (failure.status !== 422) return undefined;
  const { ErrorCode, Message = '' } = (failure.answer?.json ?? {}) as { ErrorCode?: number; Message?: string };
  const reply = failure.message;
  if (ErrorCode === 406) return { kind: 'failed', reply: `inactive recipient, suppressed by Postmark: ${reply}`, bounce: false };
  if (ErrorCode === 300) return { kind: 'failed', reply, bounce: /'To'/.test(Message) };
  if (ErrorCode !== undefined && ACCOUNT_CODES.has(ErrorCode)) return { kind: 'down', reply };
  // A stream that does not exist on the server: no message of the issue can go.
  if (/message ?stream/i.test(Message)) return { kind: 'down', reply };
  return { kind: 'failed', reply, bounce: false };
}
