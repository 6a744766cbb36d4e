import { z } from 'zod';

/**
 * A language tag as BCP 47 writes it (`en`, `de-AT`, `ar-EG`, `az-Arab`): the config's `language`
 * and an issue's own. The shape only; an unknown but well-formed tag falls back to English words.
 */
export const languageTag = z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'must be a language tag such as en or en-GB');

/** Which way a page reads: `dir` on `<html>`, and the side every start-of-line thing sits on. */
export type Direction = 'ltr' | 'rtl';

export const directions = ['ltr', 'rtl'] as const;

/** Scripts written right to left (ISO 15924): a tag that names one (`az-Arab`, `yi-Hebr`) reads rtl. */
const rtlScripts = new Set(['arab', 'hebr', 'thaa', 'syrc', 'nkoo', 'adlm', 'rohg', 'mand', 'samr']);

/**
 * Languages written right to left in their usual script. ICU knows most of them through
 * Intl.Locale, but not all (Node 20's ICU calls Dhivehi, in Thaana, ltr), so the list is asked too.
 */
const rtlLanguages = new Set(['ar', 'he', 'iw', 'fa', 'ur', 'ps', 'sd', 'ug', 'yi', 'ji', 'dv', 'ckb']);

/**
 * The direction a language is written in. A script subtag decides when there is one (`ar-Latn` is
 * ltr, `ku-Arab` rtl: ICU gets several of those wrong); otherwise a language is rtl if ICU or the
 * list says so. An unknown tag reads ltr.
 */
export function textDirection(language: string): Direction {
  let locale: Intl.Locale;
  try {
    locale = new Intl.Locale(language);
  } catch {
    return 'ltr';
  }
  if (locale.script) return rtlScripts.has(locale.script.toLowerCase()) ? 'rtl' : 'ltr';
  if (rtlLanguages.has(locale.language.toLowerCase())) return 'rtl';
  return intlDirection(locale) ?? 'ltr';
}

/** `getTextInfo()` in newer engines, the `textInfo` getter in Node 20's V8; neither in older ones. */
function intlDirection(locale: Intl.Locale): Direction | undefined {
  const withInfo = locale as Intl.Locale & { getTextInfo?: () => { direction?: string }; textInfo?: { direction?: string } };
  const info = typeof withInfo.getTextInfo === 'function' ? withInfo.getTextInfo() : withInfo.textInfo;
  return info?.direction === 'rtl' ? 'rtl' : info?.direction === 'ltr' ? 'ltr' : undefined;
}

/**
 * The physical sides for a direction. Email clients mostly ignore CSS logical properties
 * (`margin-inline-start`, `text-align: start` in Outlook's Word engine), so templates write
 * `border-{{dir.start}}` and get `border-left` or `border-right`.
 */
export interface Sides {
  name: Direction;
  rtl: boolean;
  /** Where a line begins: left in ltr, right in rtl. */
  start: 'left' | 'right';
  end: 'left' | 'right';
}

export function sides(direction: Direction): Sides {
  return direction === 'rtl' ? { name: 'rtl', rtl: true, start: 'right', end: 'left' } : { name: 'ltr', rtl: false, start: 'left', end: 'right' };
}
