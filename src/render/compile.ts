import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';
import { WorkerRequests } from '../worker-requests.js';
import type { Diagnostic } from '../issue/diagnostic.js';

interface MjmlResult {
  html: string;
  errors: { line: number; message: string; tagName: string }[];
}
type Mjml2Html = (mjml: string, options?: object) => Promise<MjmlResult>;

/** The options every compile uses. */
const options = {
  validationLevel: 'soft',
  keepComments: false,
  // Web fonts are the template's choice to add; by default nothing is fetched from a font host.
  fonts: {},
};

/**
 * mjml takes about half a second to load, more than everything else in a build put together. A
 * worker thread loads it on the second core while this thread reads the config, parses Markdown and
 * fills the template, so a one-off `digest build` waits for mjml once instead of after everything.
 * The worker is plain CommonJS evaluated from a string, so it runs the same from src/ under the test
 * runner and from dist/.
 *
 * Four of the packages mjml loads up front serve only what digest never asks of it: minifying
 * (htmlnano, cssnano-preset-lite) and beautifying (js-beautify) the output, and fetching a page by
 * URL (undici, under cheerio). Together they are about 40% of mjml's load, so the worker does not
 * load them: each is a stand-in that any use would make fail loudly. tests/render/compile.test.ts
 * holds the worker's output to the bare library's.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Module = require('node:module');
const unused = new Set(${JSON.stringify(['undici', 'htmlnano', 'cssnano-preset-lite', 'js-beautify'])});
const standIn = (name) => new Proxy(function () {}, {
  get: (_, key) => (key === '__esModule' || key === 'then' || typeof key === 'symbol' ? undefined : standIn(name + '.' + String(key))),
  apply: () => { throw new Error(name + ' is not loaded in digest’s MJML worker'); },
  construct: () => { throw new Error(name + ' is not loaded in digest’s MJML worker'); },
});
const load = Module._load;
Module._load = function (request) {
  return unused.has(request) ? standIn(request) : load.apply(this, arguments);
};
const mjml2html = Module.createRequire(workerData.from)('mjml');
parentPort.on('message', async ({ id, mjml, options }) => {
  try {
    const result = await mjml2html(mjml, options);
    const errors = result.errors.map(({ line, message, tagName }) => ({ line, message, tagName }));
    parentPort.postMessage({ id, result: { html: result.html, errors } });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: String((error && error.stack) || error) } });
  }
});
`;

class MjmlWorker {
  private readonly worker = new Worker(workerSource, { eval: true, workerData: { from: import.meta.url } });
  // An idle worker must not keep the process alive; one with work in hand must.
  private readonly requests = new WorkerRequests(this.worker, { name: 'the MJML worker', unrefWhenIdle: true });

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  compile(mjml: string): Promise<MjmlResult> {
    return this.requests.send({ mjml, options });
  }
}

let worker: MjmlWorker | undefined;

/** Starts loading mjml in the background; commands that will compile call this first thing. */
export function prepareMjml(): void {
  worker ??= new MjmlWorker();
}

/**
 * Ends the worker and frees its heap: mjml's code and what a compile leaves behind are tens of
 * megabytes a long send has no use for once its issues are rendered.
 */
export async function releaseMjml(): Promise<void> {
  const ending = worker;
  worker = undefined;
  await ending?.terminate();
}

/** Whether compiles run in the worker: then this thread is free while one runs. */
export function compilesInWorker(): boolean {
  return worker !== undefined;
}

let inProcess: Mjml2Html | undefined;

/** mjml in this thread: for callers that want the bare library (benchmarks compare against it). */
export function loadMjml(): Mjml2Html {
  inProcess ??= createRequire(import.meta.url)('mjml') as Mjml2Html;
  return inProcess;
}

/**
 * MJML → email HTML. Compiled once per issue; everything per reader happens later, on the result.
 * Problems MJML reports are the template's, and say so.
 */
export async function compileMjml(mjml: string, templateName: string, file: string): Promise<{ html: string; diagnostics: Diagnostic[] }> {
  let result: MjmlResult;
  try {
    // In a worker where a command asked for one; otherwise here.
    result = worker ? await worker.compile(mjml) : await loadMjml()(mjml, options);
  } catch (error) {
    // MJML and the CSS inliner under it throw on some malformed templates (broken CSS, say).
    const reason = (error as Error).message.split('\n')[0]?.replace(/^\w*Error: /, '');
    throw new UserError(`template "${templateName}" could not be compiled by MJML: ${reason}`, {
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
