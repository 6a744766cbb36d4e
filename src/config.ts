import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { UserError } from './errors.js';
import { directions, languageTag } from './language.js';
import { parseYaml, validate } from './yaml.js';

export const CONFIG_FILE = 'digest.config.yaml';

const colour = z.string().regex(/^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/, 'must be a hex colour such as #1d4ed8');

/**
 * A CSS font stack. Templates print it unescaped into CSS and style attributes (an escaped quote,
 * `&#x27;`, would end a CSS declaration at its `;`), so only what a font stack needs is allowed.
 */
const fontStack = z.string().regex(/^[A-Za-z0-9 ,'-]+$/, "must be a CSS font stack such as Georgia, 'Times New Roman', serif (letters, digits, spaces, commas, single quotes)");

const brandSchema = z
  .object({
    /** Headings, links, buttons. */
    color: colour.default('#1d4ed8'),
    /** The support banner and other highlights. */
    accent: colour.default('#b45309'),
    text: colour.default('#1f2937'),
    background: colour.default('#f3f4f6'),
    font: fontStack.default("Georgia, 'Times New Roman', serif"),
    headingFont: fontStack.default("'Helvetica Neue', Helvetica, Arial, sans-serif"),
    /** The background of callouts such as the support banner. */
    highlight: colour.default('#fdf2e3'),
    logo: z.url({ protocol: /^https?$/ }).optional(),
  })
  .strict();

/**
 * The words a template prints around the content. Each comes from the catalogue for the issue's
 * language (src/render/labels.ts); one set here replaces that word in every language.
 */
const label = z.string().min(1, 'must not be empty').optional();
const labelsSchema = z
  .object({
    summary: label,
    related: label,
    by: label,
    subscribeTitle: label,
    subscribeText: label,
    subscribeButton: label,
    viewInBrowser: label,
    unsubscribe: label,
    receiving: label,
    /** The footer of the sign-up confirmation, sent to someone not on the list yet. */
    requested: label,
    /** The footer's sentence when clicks are recorded per reader (tracking.perReader). */
    tracked: label,
  })
  .strict();

/**
 * One delivery route: a URL without credentials (`ses://eu-west-1`, `smtp://relay.example:587`), or
 * the name of an environment variable that holds the whole URL, credentials included.
 */
const routeSchema = z
  .object({
    url: z
      .string()
      .refine((url) => !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url), 'must not hold credentials (a password or an API key): put the URL in an environment variable and name it with env:')
      .optional(),
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable').optional(),
    /** Messages in flight on this route at most (default: send --concurrency). */
    concurrency: z.number().int().positive().optional(),
    /** Messages a second on this route at most. */
    rate: z.number().positive().optional(),
  })
  .strict()
  .refine((route) => (route.url === undefined) !== (route.env === undefined), 'give either url: or env:, not both');

const deliverySchema = z
  .object({
    /** Tried in order: everything goes through the first route that is up. */
    routes: z.array(routeSchema).min(1, 'must list at least one route'),
    /** Temporary failures in a row, with no success between, that take a route down. */
    failAfter: z.number().int().positive().default(10),
  })
  .strict();

/** Readers who sign themselves up through `digest serve` (double opt-in). */
const signupSchema = z
  .object({
    /** Serve /subscribe and /confirm. Off unless asked for. */
    enabled: z.boolean().default(false),
    /** What the reader agrees to, shown beside the button and recorded by its version. */
    consent: z.string().min(1).default('Send me this newsletter by email. I can unsubscribe at any time with the link in every issue.'),
    consentVersion: z.string().min(1).default('1'),
    /** Tags every confirmed reader gets, so the issues' audiences reach them. */
    tags: z.array(z.string().min(1)).default([]),
    /** How long a confirmation link works. */
    tokenDays: z.number().positive().max(30).default(7),
    /** Requests a minute from one address (IP) before 429. */
    perIpPerMinute: z.number().int().positive().default(10),
    /** Keep the requester's IP address with the consent record. */
    storeIp: z.boolean().default(false),
    /** Read the client's address from X-Forwarded-For (only behind a proxy that sets it). */
    trustProxy: z.boolean().default(false),
    /** Origins whose pages may POST JSON (CORS); forms may post from anywhere. */
    allowedOrigins: z.array(z.url({ protocol: /^https?$/ })).default([]),
    /** An issue file (relative to the config) sent to each reader once they confirm; none by default. */
    welcome: z.string().min(1).optional(),
  })
  .strict();

/**
 * Provider webhooks for bounces and complaints, served by `digest serve` at /webhooks/<provider>.
 * The secrets come from the environment only (src/bounces/webhooks/index.ts); SES has none, and is
 * turned on here by naming the SNS topics whose messages are taken.
 */
const webhooksSchema = z
  .object({
    ses: z
      .object({
        /** SNS topic ARNs; a message from any other topic is refused (SNS signs every topic's messages alike). */
        topics: z
          .array(z.string().regex(/^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/, 'must be an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:digest-bounces'))
          .min(1, 'must list at least one SNS topic ARN'),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * `digest check --preflight`: how the checks that go on the network behave. Each key is documented in
 * docs/preflight.md.
 */
const preflightSchema = z
  .object({
    /** URLs fetched at once by the links check. */
    concurrency: z.number().int().positive().max(64, 'must be at most 64').default(8),
    /** Seconds to wait for each request (each hop of a redirect) before calling the URL timed out. */
    timeout: z.number().positive('must be a number of seconds above 0').max(120, 'must be at most 120 seconds').default(10),
    /** The issue's images together (hero, logo, body) above this many kilobytes (1 KB = 1000 bytes) → images-over-budget. */
    imageBudgetKB: z.number().positive().default(1000),
    /** How long a good answer is kept in the cache (failures are never kept); 0 checks every URL every run. */
    cacheHours: z.number().min(0).default(24),
    /** Hosts never fetched (sites that refuse robots): `example.com` covers its subdomains too. */
    skipHosts: z.array(z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'must be a host name such as linkedin.com')).default([]),
  })
  .strict();

/**
 * Click counting (docs/tracking.md): off unless asked for. Links go through digest serve's redirect
 * at <baseUrl>/c/; per reader only with perReader, which the footer then tells every reader.
 */
const trackingSchema = z
  .object({
    clicks: z.boolean().default(false),
    perReader: z.boolean().default(false),
  })
  .strict()
  .refine((tracking) => tracking.clicks || !tracking.perReader, { message: 'needs clicks: true as well (per-reader records are kept of counted clicks)', path: ['perReader'] });

/** `{{slug}}` is the one placeholder: anything else in braces would reach analytics as it stands. */
const utmValue = z
  .string()
  .min(1, 'must not be empty')
  .refine((value) => !value.replace(/\{\{\s*slug\s*\}\}/g, '').includes('{{'), 'may hold {{slug}} (the issue\'s slug) and no other placeholder');

/** UTM parameters added to links on the listed domains; an issue's front matter may set its own values. */
export const utmValues = {
  source: utmValue.optional(),
  medium: utmValue.optional(),
  campaign: utmValue.optional(),
};

const utmSchema = z
  .object({
    ...utmValues,
    /** `example.org` covers its subdomains too. */
    domains: z.array(z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a host name such as example.org')).default([]),
  })
  .strict();

const configSchema = z
  .object({
    name: z.string().min(1, 'must not be empty').default('Untitled Newsletter'),
    tagline: z.string().optional(),
    from: z.string().optional(),
    /** The postal address every bulk message must carry (CAN-SPAM, and readers' trust). */
    address: z.string().optional(),
    language: languageTag.default('en'),
    /** Overrides the direction the language implies (rtl for ar, he, fa…), for the issues that do not set a language of their own. */
    direction: z.enum(directions, { error: 'must be ltr or rtl' }).optional(),
    /** Where the web versions are published; "view in browser" links point here. */
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    subscribeUrl: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * The base of every reader's unsubscribe link (the token follows a slash), served by
     * `digest serve` behind a proxy. Default: baseUrl + /unsubscribe.
     */
    unsubscribeUrl: z.url({ protocol: /^https$/, error: 'must be an https:// URL (mail providers require it)' }).optional(),
    /** An address that unsubscribes whoever writes to it: the mailto: half of List-Unsubscribe. */
    unsubscribeMailto: z.email().optional(),
    /**
     * Where bounces go: each message's envelope sender becomes this address with a tag of the
     * reader's (`bounces+TAG@…`, VERP), so that a report maps to its reader and issue. The mailbox
     * must accept the `+TAG` forms (Postfix's recipient_delimiter, most providers by default).
     */
    bounceAddress: z.email().refine((address) => !address.split('@')[0]!.includes('+'), 'must not hold a + of its own: digest adds +TAG').optional(),
    /** Soft bounces (a full mailbox, a server down) that make an address bounced: `count` within `days`. */
    softBounces: z.object({ count: z.number().int().positive().default(3), days: z.number().positive().default(15) }).strict().default({ count: 3, days: 15 }),
    template: z.string().default('default'),
    issuesDir: z.string().default('issues'),
    outDir: z.string().default('build'),
    templatesDir: z.string().default('templates'),
    testAddresses: z.array(z.string()).default([]),
    /** Seconds to wait for any answer from the route (SMTP server or API) before giving up on it (send --timeout). */
    timeout: z.number().positive('must be a number of seconds above 0').max(3600, 'must be at most 3600 seconds').default(60),
    /** Where messages go when neither --via nor DIGEST_DELIVERY_URL says (then --smtp, DIGEST_SMTP_URL). */
    delivery: deliverySchema.optional(),
    signup: signupSchema.default(signupSchema.parse({})),
    webhooks: webhooksSchema.default({}),
    preflight: preflightSchema.default(preflightSchema.parse({})),
    brand: brandSchema.default(brandSchema.parse({})),
    /** Only the words set here: the rest come from the catalogue for each issue's language. */
    labels: labelsSchema.default({}),
    tracking: trackingSchema.default({ clicks: false, perReader: false }),
    utm: utmSchema.default({ domains: [] }),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type Brand = Config['brand'];

export interface ResolvedConfig extends Config {
  /** The project folder: where the config file is, or the working folder without one. */
  root: string;
  /** The config file read, if any. */
  file?: string;
}

/** Environment variables win over the file, so CI can set them without editing it. */
const environment: Record<string, keyof Config> = {
  DIGEST_FROM: 'from',
  DIGEST_BASE_URL: 'baseUrl',
  DIGEST_UNSUBSCRIBE_URL: 'unsubscribeUrl',
  DIGEST_UNSUBSCRIBE_MAILTO: 'unsubscribeMailto',
  DIGEST_BOUNCE_ADDRESS: 'bounceAddress',
};

/**
 * Reads the config once: an explicit `--config` path, else `digest.config.yaml` in the working folder,
 * else the defaults. Relative folders in it are resolved against the project folder.
 */
export async function loadConfig(options: { path?: string; cwd?: string } = {}): Promise<ResolvedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const file = resolve(cwd, options.path ?? CONFIG_FILE);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || options.path) {
      throw new UserError(`cannot read the config file (${(error as Error).message})`, { file: options.path ?? CONFIG_FILE });
    }
  }
  const shown = options.path ?? CONFIG_FILE;
  const located = text === undefined ? { data: {}, lineOf: () => undefined } : parseYaml(text, shown);
  const raw = { ...(located.data as Record<string, unknown>) };
  if (typeof located.data !== 'object' || Array.isArray(located.data)) {
    throw new UserError('the config must be a mapping of settings', { file: shown, line: 1 });
  }
  for (const [variable, key] of Object.entries(environment)) {
    const value = process.env[variable];
    if (value) raw[key] = value;
  }
  const config = validate(configSchema, { ...located, data: raw }, shown, 1);
  if (config.tracking.clicks && !config.baseUrl) {
    throw new UserError('tracking.clicks needs baseUrl (or DIGEST_BASE_URL): the links of an issue go through <baseUrl>/c/, served by digest serve', {
      file: shown,
      line: located.lineOf(['tracking', 'clicks']),
      code: 'invalid-setting',
    });
  }
  const root = text === undefined ? cwd : dirname(file);
  return {
    ...config,
    unsubscribeUrl: config.unsubscribeUrl ?? (config.baseUrl?.startsWith('https:') ? `${config.baseUrl.replace(/\/+$/, '')}/unsubscribe` : undefined),
    // Readers sign up on digest serve's own page when it offers one and no other is configured.
    subscribeUrl: config.subscribeUrl ?? (config.signup.enabled && config.baseUrl ? `${config.baseUrl.replace(/\/+$/, '')}/subscribe` : undefined),
    root,
    file: text === undefined ? undefined : file,
    issuesDir: resolve(root, config.issuesDir),
    outDir: resolve(root, config.outDir),
    templatesDir: resolve(root, config.templatesDir),
  };
}
