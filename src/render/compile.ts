import { UserError } from '../errors.js';
import type { Diagnostic } from '../issue/diagnostic.js';

type Mjml2Html = (mjml: string, options?: object) => Promise<{ html: string; errors: { line: number; message: string; tagName: string }[] }>;

let mjml2html: Mjml2Html | undefined;

/** mjml is the heaviest dependency by far (about half a second): loaded once, on first use. */
export async function loadMjml(): Promise<Mjml2Html> {
  mjml2html ??= ((await import('mjml')) as unknown as { default: Mjml2Html }).default;
  return mjml2html;
}

/**
 * MJML → email HTML. Compiled once per issue; everything per reader happens later, on the result.
 * Problems MJML reports are the template's, and say so.
 */
export async function compileMjml(mjml: string, templateName: string, file: string): Promise<{ html: string; diagnostics: Diagnostic[] }> {
  const compile = await loadMjml();
  let result: Awaited<ReturnType<Mjml2Html>>;
  try {
    result = await compile(mjml, {
      validationLevel: 'soft',
      keepComments: false,
      // Web fonts are the template's choice to add; by default nothing is fetched from a font host.
      fonts: {},
    });
  } catch (error) {
    // MJML and the CSS inliner under it throw on some malformed templates (broken CSS, say).
    throw new UserError(`template "${templateName}" could not be compiled by MJML: ${(error as Error).message}`, {
      file,
      code: 'template-invalid',
      cause: error,
    });
  }
  const diagnostics = result.errors.map(
    (error): Diagnostic => ({
      code: 'template-invalid',
      severity: 'error',
      message: `template "${templateName}" produced invalid MJML: ${error.message}`,
      file,
    }),
  );
  return { html: result.html, diagnostics };
}
