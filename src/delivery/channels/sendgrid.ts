import type { Channel, ChannelSettings, Verdict } from './channel.js';
import { classifyHttp, HttpClient, verifyRoute, type HttpAnswer, type HttpFailure } from './http.js';
import { missingCredential, readProviderUrl } from './provider-url.js';

/**
 * `sendgrid://[KEY@][HOST][?region=eu]`: SendGrid's v3 Mail Send (POST /v3/mail/send, one reader a
 * request), authenticated by an API key (the URL's, or SENDGRID_API_KEY) with the mail.send scope.
 * SendGrid builds the MIME from fields and signs it itself; our List-* headers and Message-ID go as
 * custom headers (none of them is one SendGrid reserves). Its click, open and subscription
 * tracking are turned off for our messages: they would rewrite the links, our unsubscribe link
 * among them, and add a footer of SendGrid's own.
 */
export function sendgridChannel(url: string, settings: ChannelSettings): Channel {
  const route = readProviderUrl(url, {
    provider: 'sendgrid',
    variable: 'SENDGRID_API_KEY',
    env: settings.env,
    defaultHost: 'api.sendgrid.com',
    apiBase: (host, params) => (params.get('region')?.toLowerCase() === 'eu' ? 'https://api.eu.sendgrid.com' : `https://${host}`),
    example: 'sendgrid://KEY@api.sendgrid.com, or sendgrid:// with SENDGRID_API_KEY set',
  });
  const key = route.credential;
  const client = new HttpClient({
    provider: 'sendgrid',
    base: route.base,
    concurrency: settings.concurrency,
    timeoutMs: settings.timeoutMs,
    headers: { accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    secrets: key ? [key] : [],
    errorText,
  });
  return {
    description: route.description,
    real: true,
    // SendGrid's address validation takes ASCII local parts only.
    internationalOk: false,
    async verify() {
      if (!key) throw missingCredential(route, 'SendGrid API key');
      await verifyRoute(client, route.description, { method: 'GET', path: '/v3/scopes' }, {
        problem(answer) {
          const scopes = (answer.json as { scopes?: string[] } | undefined)?.scopes;
          return scopes && !scopes.includes('mail.send') ? 'the API key may not send mail (it lacks the mail.send scope)' : undefined;
        },
      });
    },
    async deliver(message, options = {}) {
      if (!key) throw missingCredential(route, 'SendGrid API key');
      const fields = message.fields();
      const body = {
        personalizations: [{ to: [{ email: fields.to, ...(fields.toName ? { name: fields.toName } : {}) }] }],
        from: { email: fields.fromAddress, ...(fields.fromName ? { name: fields.fromName } : {}) },
        subject: fields.subject,
        // text/plain first, as RFC 2046 orders alternatives; SendGrid refuses an empty value.
        content: [
          ...(fields.text ? [{ type: 'text/plain', value: fields.text }] : []),
          { type: 'text/html', value: fields.html },
        ],
        headers: fields.headers,
        tracking_settings: {
          click_tracking: { enable: false, enable_text: false },
          open_tracking: { enable: false },
          subscription_tracking: { enable: false },
        },
      };
      const answer = await client.send({
        method: 'POST',
        path: '/v3/mail/send',
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(body)),
        ready: options.ready,
      });
      const id = answer.headers['x-message-id'];
      return { reply: `sendgrid ${answer.status} ${(Array.isArray(id) ? id[0] : id) ?? '(no X-Message-Id)'}` };
    },
    classify: (error) => classifyHttp(error, classifySendgrid),
    close: () => client.close(),
    abort: () => client.abort(),
  };
}

interface SendgridError {
  message?: string;
  field?: string | null;
}

function errors(answer: HttpAnswer): SendgridError[] {
  const list = (answer.json as { errors?: SendgridError[] } | undefined)?.errors;
  return Array.isArray(list) ? list : [];
}

function errorText(answer: HttpAnswer): string {
  const list = errors(answer);
  if (!list.length) return answer.text;
  return list.map((error) => (error.field ? `${error.field}: ${error.message}` : (error.message ?? ''))).join('; ');
}

/**
 * SendGrid's 400s name the field at fault (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors):
 * the recipient's address (`personalizations.0.to…`) is a bounce; the sender's (`from…`) is the
 * same for every reader, so the route goes down; anything else is a malformed request. A 401
 * (a bad key, or "Maximum credits exceeded") and a 403 (a sender identity not verified) are down
 * by the shared rule; 413 is this message too large, failed.
 */
function classifySendgrid(failure: HttpFailure & { status: number }): Verdict | undefined {
  if (failure.status !== 400) return undefined;
  const fields = errors(failure.answer!).map((error) => error.field ?? '');
  const reply = failure.message;
  if (fields.some((field) => /^from\b/.test(field))) return { kind: 'down', reply };
  if (fields.length && fields.every((field) => /^personalizations\.\d+\.to\b/.test(field))) return { kind: 'failed', reply, bounce: true };
  return { kind: 'failed', reply, bounce: false };
}
