import { UserError } from '../../errors.js';

/** A provider's route URL, read: where to send, with what key, and how to name it in print. */
export interface ProviderRoute {
  /** `postmark (api.postmarkapp.com)`: safe to print, never a credential. */
  description: string;
  /** Where requests go: `?endpoint=` when given (a local server, a proxy), else the provider's API. */
  base: URL;
  /** The URL's host: the API host for most providers, the sending domain for Mailgun. */
  host: string;
  params: URLSearchParams;
  /** The key, from the URL or else the environment; undefined when neither has it. */
  credential?: string;
  /** Where the credential was looked for, for the message that says it is missing. */
  credentialVariable: string;
}

export interface ProviderUrlSpec {
  /** `postmark`: the scheme without its colon, and the word that names the route. */
  provider: string;
  /** The environment variable that holds the key when the URL does not. */
  variable: string;
  env: NodeJS.ProcessEnv;
  /** The host when the URL names none (`resend://KEY@` or `resend://`). Mailgun has none: its host is the domain. */
  defaultHost?: string;
  /** The API's base URL when `?endpoint=` does not override it. */
  apiBase(host: string, params: URLSearchParams): string;
  /** A user name that is part of the scheme rather than a key (Mailgun's `api`). */
  fixedUser?: string;
  /** The example given when the URL cannot be read. */
  example: string;
}

/**
 * Reads `PROVIDER://[KEY@][HOST][?endpoint=URL&…]`. The key may stand as the user name or the
 * password (`scheme://:KEY@host`, Mailgun's `api:KEY@`); without one, the environment's variable
 * holds it. A missing key is not an error here: verify() says so, so that failover can go on
 * through the other routes.
 */
export function readProviderUrl(url: string, spec: ProviderUrlSpec): ProviderRoute {
  const invalid = (why: string) =>
    new UserError(`the ${spec.provider} URL ${withoutCredentials(url)} ${why} (expected ${spec.example})`, { code: 'invalid-delivery-url' });
  let parsed = parse(url);
  // `resend://KEY@` has a user but no host, which the URL standard refuses: the host is the default.
  if (!parsed && spec.defaultHost) parsed = parse(url.replace(/@(?=[?#]|$)/, `@${spec.defaultHost}`));
  if (!parsed) throw invalid('is not a valid URL');
  if (parsed.protocol !== `${spec.provider}:`) throw invalid(`must start with ${spec.provider}://`);
  const host = parsed.hostname || spec.defaultHost;
  if (!host) throw invalid('names no host');
  const params = parsed.searchParams;

  const endpoint = params.get('endpoint');
  let base: URL;
  try {
    base = new URL(endpoint ?? spec.apiBase(host, params));
  } catch {
    throw invalid(`has an endpoint that is not a URL`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw invalid('has an endpoint that is not http(s)');

  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  const credential = password || (user && user !== spec.fixedUser ? user : '') || spec.env[spec.variable] || undefined;
  const description = `${spec.provider} (${base.host})`;
  return { description, base, host, params, credential, credentialVariable: spec.variable };
}

/** The URL as it may be printed: the whole user part goes (a key can stand as the user name). */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** The UserError a delivery or verify() meets when the route has no key. */
export function missingCredential(route: ProviderRoute, provider: string): UserError {
  return new UserError(
    `cannot send through ${route.description}: no ${provider} key; set ${route.credentialVariable}, or give it in the delivery URL (${provider}://KEY@…)`,
    { code: 'route-unavailable' },
  );
}
