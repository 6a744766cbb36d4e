import type { Worker } from 'node:worker_threads';

/** What a worker answers to a request: its result, or the error it met (message and code). */
export type WorkerReply = { id: number; result: unknown } | { id: number; error: { message: string; code?: string } };

/**
 * Requests to a worker thread, each answered by one reply carrying the request's id: a promise per
 * request, rejected with the worker's error, or with the worker's own failure should it crash or
 * stop. `unrefWhenIdle`: the worker keeps the process alive only while a request is in hand.
 */
export class WorkerRequests {
  private readonly pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  private next = 0;
  /** Why the worker can take no more requests, once it has crashed or stopped. */
  failure?: Error;

  constructor(
    private readonly worker: Worker,
    private readonly options: { name: string; unrefWhenIdle?: boolean },
  ) {
    worker.on('message', (reply: WorkerReply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (options.unrefWhenIdle && this.pending.size === 0) worker.unref();
      if ('error' in reply) waiting?.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      else waiting?.resolve(reply.result as never);
    });
    const stop = (error: Error) => {
      this.failure ??= error;
      for (const waiting of this.pending.values()) waiting.reject(this.failure);
      this.pending.clear();
    };
    worker.on('error', stop);
    worker.on('exit', (code) => stop(new Error(`${options.name} stopped (exit code ${code})`)));
    if (options.unrefWhenIdle) worker.unref();
  }

  send<T>(message: Record<string, unknown>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    if (this.options.unrefWhenIdle) this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: never) => void, reject });
      this.worker.postMessage({ ...message, id });
    });
  }
}
