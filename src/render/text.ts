import { compile, type HtmlToTextOptions } from 'html-to-text';

/**
 * The plain-text part, from the compiled HTML: links as URLs in brackets, headings marked, wrapped
 * near 78 columns as RFC 5322 advises, never a line over its hard limit of 998 characters.
 */
const options: HtmlToTextOptions = {
  wordwrap: 78,
  selectors: [
    { selector: '.preheader', format: 'skip' },
    { selector: 'img', format: 'skip' },
    { selector: 'h1', options: { uppercase: true, leadingLineBreaks: 2, trailingLineBreaks: 1 } },
    { selector: 'h2', options: { uppercase: true, leadingLineBreaks: 3, trailingLineBreaks: 1 } },
    { selector: 'h3', options: { uppercase: false, leadingLineBreaks: 2, trailingLineBreaks: 1 } },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['<', '>'] } },
    { selector: 'table.prose-table', format: 'dataTable' },
    { selector: 'ul', options: { itemPrefix: ' * ' } },
    { selector: 'hr', options: { length: 40 } },
  ],
};

const LIMIT = 998;

/** html-to-text's converter for these options, built once: building it costs as much as a small conversion. */
let converter: ((html: string) => string) | undefined;
const convert = (html: string) => (converter ??= compile(options))(html);

/**
 * Runs the converter once over markup like the (its MJML), while the main thread would
 * otherwise sit waiting for mjml's worker: the real conversion afterwards finds the converter built
 * and its code already compiled, and takes about half as long.
 */
export function warmTextConverter(sample: string): void {
  convert(sample);
}

/** Merge fields must survive wrapping whole: each is swapped for a token without spaces first. */
export function htmlToText(html: string): string {
  const fields: string[] = [];
  const shielded = html.replace(/\{\{[\s\S]*?\}\}/g, (field) => `\u2063MERGE${fields.push(field) - 1}\u2063`);
  let text = convert(shielded);
  text = text.replace(/\u2063MERGE(\d+)\u2063/g, (_, index: string) => fields[Number(index)]!);
  text = text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    // A block merge field standing as a paragraph of its own (the footer's {{#if click_reader}}…{{/if}})
    // joins the paragraph before it, so that whether its condition holds or not no blank lines are doubled.
    .replace(/\n\n(\{\{[#/][^{}]*\}\})\n\n/g, '$1\n\n')
    .trim();
  return `${hardWrap(text)}\n`;
}

/** Only a URL longer than the whole line limit could need this; SMTP would reject the message. */
function hardWrap(text: string): string {
  return text
    .split('\n')
    .flatMap((line) => (line.length <= LIMIT ? [line] : (line.match(new RegExp(`.{1,${LIMIT}}`, 'g')) ?? [line])))
    .join('\n');
}
