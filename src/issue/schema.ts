import { z } from 'zod';
import { utmValues } from '../config.js';
import { directions, languageTag } from '../language.js';

/** A calendar date as the editor writes it, checked to exist (no 2024-02-30). */
const calendarDate = z
  .string({ error: 'must be a date as YYYY-MM-DD' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((value) => {
    const parsed = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(value);
  }, 'is not a real calendar date');

/** A moment with its UTC offset, so a scheduled send does not depend on the runner's time zone. */
const instant = z
  .string({ error: 'must be an ISO 8601 date-time with an offset, such as 2024-03-08T07:00:00+01:00' })
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/,
    'must be an ISO 8601 date-time with an offset, such as 2024-03-08T07:00:00+01:00',
  )
  .refine((value) => !Number.isNaN(Date.parse(value)), 'is not a real date-time');

const text = (what: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined || issue.input === null ? `${what} is required` : `${what} must be text`) })
    .trim()
    .min(1, `${what} must not be empty`);

const imageSchema = z
  .object({
    src: text('src'),
    alt: z.string({ error: 'alt text is required with an image (describe it for readers who cannot see it)' }).trim().min(1, 'alt text must not be empty'),
    caption: z.string().optional(),
    credit: z.string().optional(),
  })
  .strict();

export const frontMatterSchema = z.object({
  title: text('title').max(200, 'title is too long (200 characters at most)'),
  date: calendarDate,
  subject: text('subject').optional(),
  preheader: text('preheader').optional(),
  author: text('author').optional(),
  image: imageSchema.optional(),
  send_at: instant.optional(),
  audience: z.union([z.string().min(1), z.array(z.string().min(1))], { error: 'must be a tag or a list of tags' }).optional(),
  template: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]*$/, 'must be the name of a folder in templates/ (letters, digits, - and _)')
    .optional(),
  /** The issue's own language, when it differs from the newsletter's: its words, dates and direction. */
  language: languageTag.optional(),
  /** ltr or rtl, when the language alone would say otherwise. */
  direction: z.enum(directions, { error: 'must be ltr or rtl' }).optional(),
  slug: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, - and _ (it names files and URLs)')
    .optional(),
  /** This issue's UTM values, each over the config's; the domains they go on are the config's. */
  utm: z.object(utmValues).strict().optional(),
});

export type FrontMatter = z.infer<typeof frontMatterSchema>;

export const knownKeys: ReadonlySet<string> = new Set(Object.keys(frontMatterSchema.shape));
