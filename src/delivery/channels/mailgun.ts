import type { Channel, ChannelSettings, Verdict } from './channel.js';
import { formData } from './form-data.js';
import { classifyHttp, HttpClient, verifyRoute, type HttpAnswer, type HttpFailure } from './http.js';
import { missingCredential, readProviderUrl } from './provider-url.js';

/**
 * `mailgun://[api:KEY@]DOMAIN[?region=eu]`: Mailgun's MIME endpoint (POST /v3/DOMAIN/messages.mime),
 * which carries our own bytes, DKIM-signed by us when a key is set (Mailgun adds its own
 * signature), so the message is the one SMTP or the outbox would carry. The key is the URL's or
 * MAILGUN_API_KEY; `region=eu` sends to Mailgun's EU API, where EU domains live.
 */
export function mailgunChannel(url: string, settings: ChannelSettings): Channel {
  const route = readProviderUrl(url, {
    provider: 'mailgun',
    variable: 'MAILGUN_API_KEY',
    env: settings.env,
    fixedUser: 'api',
    apiBase: (_domain, params) => (params.get('region')?.toLowerCase() === 'eu' ? 'https://api.eu.mailgun.net' : 'https://api.mailgun.net'),
    example: 'mailgun://api:KEY@mg.example.com?region=eu, or mailgun://mg.example.com with MAILGUN_API_KEY set',
  });
  const domain = route.host;
  const description = `mailgun (${domain} via ${route.base.host})`;
  const key = route.credential;
  const client = new HttpClient({
    provider: 'mailgun',
    base: route.base,
    concurrency: settings.concurrency,
    timeoutMs: settings.timeoutMs,
    headers: key ? { authorization: `Basic ${Buffer.from(`api:${key}`).toString('base64')}` } : {},
    secrets: key ? [key] : [],
    errorText,
  });
  const domainPath = encodeURIComponent(domain);
  return {
    description,
    real: true,
    // Mailgun's HTTP API sends to internationalised addresses (SMTPUTF8) where the receiver takes them.
    internationalOk: true,
    async verify() {
      if (!key) throw missingCredential({ ...route, description }, 'Mailgun API key');
      await verifyRoute(client, description, { method: 'GET', path: `/v3/domains/${domainPath}` }, {
        problem(answer) {
          const state = (answer.json as { domain?: { state?: string; is_disabled?: boolean } } | undefined)?.domain;
          if (state?.is_disabled || state?.state === 'disabled') return `Mailgun has disabled the domain ${domain}`;
          if (state?.state === 'unverified') return `the domain ${domain} is not verified at Mailgun yet (its DNS records)`;
          return undefined;
        },
      });
    },
    async deliver(message, options = {}) {
      if (!key) throw missingCredential({ ...route, description }, 'Mailgun API key');
      // Addresses reach here checked (src/audience/address.ts: no spaces, no control characters).
      const form = formData(
        message.envelope.to.map((recipient): [string, string] => ['to', recipient]),
        { name: 'message', filename: 'message.mime', type: 'message/rfc822', pieces: settings.dkim ? [await settings.dkim.sign(message)] : message.pieces },
      );
      const answer = await client.send({
        method: 'POST',
        path: `/v3/${domainPath}/messages.mime`,
        headers: { 'content-type': form.type },
        body: form.body,
        ready: options.ready,
      });
      const id = (answer.json as { id?: string } | undefined)?.id;
      return { reply: `mailgun ${answer.status} ${id ?? '(no id)'}` };
    },
    classify: (error) => classifyHttp(error, classifyMailgun),
    close: () => client.close(),
    abort: () => client.abort(),
  };
}

function errorText(answer: HttpAnswer): string {
  const message = (answer.json as { message?: string } | undefined)?.message;
  return message ?? answer.text;
}

/**
 * Mailgun answers in words, not codes (https://documentation.mailgun.com/docs/mailgun/quickstart-guide/responses):
 * a 400 that faults the `to` address is a bounce; one that says the domain may not send (not
 * verified, disabled, a sandbox's authorised recipients) takes the route down, as does a 404 (no
 * such domain, or a domain of the other region); other 400s are malformed requests.
 */
function classifyMailgun(failure: HttpFailure & { status: number }): Verdict | undefined {
  const words = errorText(failure.answer!);
  const reply = failure.message;
  if (failure.status === 404) return { kind: 'down', reply: `Mailgun does not know this domain here (the region?): ${reply}` };
  if (failure.status === 400 || failure.status === 403) {
    if (/not allowed to send|test purposes only|authorized recipients|disabled|unverified|suspended/i.test(words)) return { kind: 'down', reply };
    if (/\bto\b.*not a valid address|invalid.*\bto\b/i.test(words)) return { kind: 'failed', reply, bounce: true };
  }
  return undefined;
}
