/**
 * Finding the line of the issue a finding in the built email came from. The built HTML's own lines
 * mean nothing to an editor, so a URL, an image or a piece of text is looked up in the file as written.
 */
export class SourceLines {
  private readonly lines: string[];

  constructor(source: string) {
    this.lines = source.split(/\r?\n/);
  }

  /** The first line (1-based) holding `needle`, or undefined. URLs are also tried with `&amp;` undone. */
  lineOf(needle: string): number | undefined {
    if (!needle) return undefined;
    const candidates = [needle, needle.replace(/&amp;/g, '&')];
    for (const candidate of candidates) {
      const index = this.lines.findIndex((line) => line.includes(candidate));
      if (index !== -1) return index + 1;
    }
    return undefined;
  }

  /** The first line holding a run of words from `text` (whitespace and Markdown marks ignored). */
  lineOfText(text: string): number | undefined {
    const words = text.replace(/\s+/g, ' ').trim();
    if (words.length < 3) return undefined;
    const probe = words.slice(0, 40);
    const plain = (line: string) => line.replace(/[*_`#>[\]]/g, '').replace(/\([^)]*\)/g, '').replace(/\s+/g, ' ');
    const index = this.lines.findIndex((line) => plain(line).includes(probe));
    return index === -1 ? undefined : index + 1;
  }
}
