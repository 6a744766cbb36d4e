import { AsyncLocalStorage } from 'node:async_hooks';
import type { Agent, ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';

/**
 * How far one HTTP request got before it failed. An API call that breaks off is only safe to make
 * again if the provider cannot have the whole request: once the last byte of the body has left,
 * the provider may have accepted the message even if its answer never arrives. Providers without
 * an idempotency key (SES) would then send it twice.
 */
export interface RequestProgress {
  /** The whole request, body included, was handed to the operating system for the wire. */
  written: boolean;
  /** The status of the answer, once its head has arrived. */
  status?: number;
  /** Its headers: whether the provider itself answered, or something in front of it. */
  headers?: IncomingHttpHeaders;
}

const current = new AsyncLocalStorage<RequestProgress>();

/**
 * Runs an SDK call with its progress recorded in `progress`. SDKs hide the request object they
 * make; the agent sees it (see watchProgress), and the async context tells whose request it is,
 * however many calls share the agent.
 */
export function withProgress<T>(progress: RequestProgress, call: () => Promise<T>): Promise<T> {
  return current.run(progress, call);
}

/**
 * Makes an http(s) Agent record, for each request made within withProgress, when the request was
 * written whole and when its answer began. Node calls addRequest synchronously from the request's
 * constructor, so the request is still in the caller's async context there.
 */
export function watchProgress<A extends Agent>(agent: A): A {
  const internal = agent as unknown as { addRequest(request: ClientRequest, options: unknown): void };
  const addRequest = internal.addRequest;
  internal.addRequest = function (request, options) {
    const progress = current.getStore();
    if (progress) {
      // A retried call would run on a new request with the same store: start it afresh.
      progress.written = false;
      progress.status = undefined;
      progress.headers = undefined;
      request.once('finish', () => (progress.written = true));
      request.once('response', (response: IncomingMessage) => {
        progress.status = response.statusCode;
        progress.headers = response.headers;
      });
    }
    return addRequest.call(this, request, options);
  };
  return agent;
}
