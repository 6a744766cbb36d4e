import { createHash } from 'node:crypto';
import type { Channel, ChannelSettings, Verdict } from './channel.js';
import { classifyHttp, HttpClient, verifyRoute, type HttpAnswer, type HttpFailure } from './http.js';
import { mailbox } from './mailbox.js';
import { missingCredential, readProviderUrl } from './provider-url.js';

/**
 * `resend://[KEY@][HOST]`: Resend's POST /emails, one reader a request, authenticated by an API
 * key (the URL's, or RESEND_API_KEY). Each request carries an Idempotency-Key made from the
 * message's Message-ID, which is stable for an issue and a reader: Resend answers a repeat within
 * 24 hours with the first answer instead of sending again. So a request whose answer was lost is
 * safe to send again (`retry`, where other providers say `unknown`).
 */
export function resendChannel(url: string, settings: ChannelSettings): Channel {
  const route = readProviderUrl(url, {
    provider: 'resend',
    variable: 'RESEND_API_KEY',
    env: settings.env,
    defaultHost: 'api.resend.com',
    apiBase: (host) => `https://${host}`,
    example: 'resend://KEY@api.resend.com, or resend:// with RESEND_API_KEY set',
  });
  const key = route.credential;
  const client = new HttpClient({
    provider: 'resend',
    base: route.base,
    concurrency: settings.concurrency,
    timeoutMs: settings.timeoutMs,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    secrets: key ? [key] : [],
    errorText,
    // A quota (daily, monthly) answers 429 too, but no wait of a minute will lift it.
    waitable: (answer) => !QUOTAS.has(errorName(answer)),
  });
  return {
    description: route.description,
    real: true,
    // Resend documents no support for internationalised (SMTPUTF8) addresses.
    internationalOk: false,
    async verify() {
      if (!key) throw missingCredential(route, 'Resend API key');
      await verifyRoute(client, route.description, { method: 'GET', path: '/domains' }, {
        // A key restricted to sending may not list domains, and that refusal proves it valid.
        accept: (failure) => errorName(failure.answer) === 'restricted_api_key',
        // Resend refuses an unknown key with a 400 outside the sending endpoints.
        refused: (failure) => /api key is invalid/i.test(failure.message),
      });
    },
    async deliver(message, options = {}) {
      if (!key) throw missingCredential(route, 'Resend API key');
      const fields = message.fields();
      const body = {
        from: mailbox(fields.fromName, fields.fromAddress),
        to: [mailbox(fields.toName, fields.to)],
        subject: fields.subject,
        html: fields.html,
        text: fields.text,
        headers: fields.headers,
      };
      const answer = await client.send({
        method: 'POST',
        path: '/emails',
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey(message.messageId) },
        body: Buffer.from(JSON.stringify(body)),
        ready: options.ready,
        idempotent: true,
      });
      const id = (answer.json as { id?: string } | undefined)?.id;
      return { reply: `resend ${answer.status} ${id ?? '(no id)'}` };
    },
    classify: (error) => classifyHttp(error, classifyResend),
    close: () => client.close(),
    abort: () => client.abort(),
  };
}

/** Resend takes keys of 1 to 256 characters; a longer Message-ID (a long issue slug) is hashed. */
function idempotencyKey(messageId: string): string {
  return messageId.length <= 256 ? messageId : createHash('sha256').update(messageId).digest('hex');
}

const QUOTAS = new Set(['daily_quota_exceeded', 'monthly_quota_exceeded']);

function errorName(answer: HttpAnswer | undefined): string {
  return String((answer?.json as { name?: unknown } | undefined)?.name ?? '');
}

function errorText(answer: HttpAnswer): string {
  const { name, message } = (answer.json ?? {}) as { name?: string; message?: string };
  if (message === undefined) return answer.text;
  return name ? `${name}: ${message}` : message;
}

/**
 * Resend's error names (https://resend.com/docs/api-reference/errors), read before the status:
 * - a spent quota, a from address Resend refuses, a key that is not valid (Resend answers 400 or
 *   401 for it), a domain not verified (403), a security hold: nothing of the issue can go, `down`;
 * - `concurrent_idempotent_requests`: the same key is still being handled, `retry`;
 * - `invalid_idempotent_request`: this key went with another body within 24 hours, so a message
 *   for this reader was already accepted in some form: `unknown`, never sent again on its own;
 * - `validation_error` (400) that faults the `to` field: a bounce; other 400/422s: malformed, failed.
 */
function classifyResend(failure: HttpFailure & { status: number }): Verdict | undefined {
  const name = errorName(failure.answer);
  const reply = failure.message;
  if (QUOTAS.has(name) || name === 'invalid_from_address' || name === 'security_error' || name === 'invalid_api_key' || name === 'missing_api_key') {
    return { kind: 'down', reply };
  }
  if (/api key is invalid/i.test(reply)) return { kind: 'down', reply };
  if (name === 'concurrent_idempotent_requests') return { kind: 'retry', reply };
  if (name === 'invalid_idempotent_request') {
    return { kind: 'unknown', reply: `${reply}: a message for this reader went out earlier with other content` };
  }
  if (failure.status === 400 && name === 'validation_error' && /`to`|\bto\b field|recipient/i.test(reply)) {
    return { kind: 'failed', reply, bounce: true };
  }
  return undefined;
}
