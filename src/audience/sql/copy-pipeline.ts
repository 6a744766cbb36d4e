/**
 * Slices of new rows copied one after another on one connection, each behind a savepoint of its
 * own, without waiting for the server to finish one before the next is sent.
 *
 * With a query per slice, the server finishes a slice and then waits: for its answer to reach this
 * process, for the thread (busy reading the file) to take it, and for the next query to arrive.
 * Over an import that is most of a second per million rows. PostgreSQL's extended query protocol
 * answers only at a Sync, so the statements of many slices can be in the server's queue at once:
 * it goes from one slice to the next, and this side hears of each COPY as it completes (a Flush
 * after each asks for that).
 *
 * Should a statement fail, the server reports it and discards everything after it until the Sync,
 * which is then sent at once; the slices not yet completed, the failed one and those behind it, are
 * all rejected (the failed one with its error, the others with a DiscardedCopy), and the transaction
 * waits in its failed state for the caller to roll back to the savepoint of the failed slice.
 *
 * A pg "submittable" (an object with submit() and handlers for the server's messages: pg's
 * interface for queries of one's own). pg sends a connection's queries one at a time, so while
 * this one runs, anything else queued on its client waits until end() has been called and the
 * server has answered the Sync.
 */
export class CopyPipeline {
  private connection?: PgConnection;
  /** Slices pushed before pg handed over the connection. */
  private readonly unsent: Slice[] = [];
  /** The statements sent whose completion has not come back, oldest first, with their slices. */
  private readonly expected: Array<{ slice: Slice; copy: boolean }> = [];
  private synced = false;
  private failure?: Error;
  private settle!: { resolve: () => void; reject: (error: Error) => void };
  /** Settles once the server has answered the Sync: resolved, or rejected with the failure (see handleError). */
  readonly finished: Promise<void>;

  constructor(
    /** The COPY … FROM STDIN run for every slice. */
    private readonly copyStatement: string,
    /** The savepoint each slice is copied behind; the one before it is released first. */
    private readonly savepoint: string,
    /** Whether the transaction holds that savepoint already (a copy went in before). */
    private held: boolean,
  ) {
    this.finished = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.finished.catch(() => {});
  }

  /** Queues a slice; settles when its COPY has completed, or rejects (see the class). */
  push(pieces: readonly Buffer[]): Promise<void> {
    if (this.synced || this.failure) return Promise.reject(this.failure ?? new Error('the copy pipeline has ended'));
    const slice = new Slice(pieces);
    if (this.connection) this.send(slice);
    else this.unsent.push(slice);
    return slice.done;
  }

  /** Sends the Sync once everything pushed has been sent; `finished` settles when the server has answered. */
  end(): Promise<void> {
    if (!this.synced && !this.failure) {
      this.synced = true;
      this.connection?.sync();
    }
    return this.finished;
  }

  submit(connection: PgConnection): void {
    this.connection = connection;
    for (const slice of this.unsent.splice(0)) this.send(slice);
    if (this.synced) connection.sync();
  }

  private send(slice: Slice): void {
    const connection = this.connection!;
    const statements = this.held ? [`RELEASE SAVEPOINT ${this.savepoint}`, `SAVEPOINT ${this.savepoint}`] : [`SAVEPOINT ${this.savepoint}`];
    this.held = true;
    // One write to the socket for the slice, not one per message.
    connection.stream.cork();
    for (const text of [...statements, this.copyStatement]) {
      connection.parse({ text });
      connection.bind({});
      connection.execute({});
      this.expected.push({ slice, copy: text === this.copyStatement });
    }
    for (const piece of slice.pieces) connection.sendCopyFromChunk(piece);
    connection.endCopyFrom();
    connection.flush();
    connection.stream.uncork();
    // Sent: the rows are the socket's now.
    slice.pieces = [];
  }

  handleCommandComplete(): void {
    const next = this.expected.shift();
    if (next?.copy) next.slice.resolve();
  }

  handleError(error: Error): void {
    this.failure = error;
    // The server discards what follows until a Sync; without one sent yet, it would wait for ever.
    if (!this.synced) {
      this.synced = true;
      this.connection?.sync();
    }
    const failed = this.expected[0]?.slice;
    for (const { slice } of this.expected.splice(0)) slice.reject(slice === failed ? error : new DiscardedCopy(error));
    // pg forgets this query at an error, and its answer to the Sync goes to nobody: `finished`
    // settles when that answer has come (pg is then ready for the caller's next query, and
    // queries it with no warning), or when the connection has gone.
    const connection = this.connection;
    if (!connection) return this.settle.reject(error);
    const done = () => {
      for (const [event, listener] of listeners) connection.removeListener(event, listener);
      this.settle.reject(error);
    };
    const listeners = [['readyForQuery', done], ['end', done], ['error', done]] as const;
    for (const [event, listener] of listeners) connection.once(event, listener);
  }

  handleReadyForQuery(): void {
    this.settle.resolve();
  }

  // The rows are sent with the statement already.
  handleCopyInResponse(): void {}

  // Defined so that pg can put its query_timeout behind it, as with its own queries.
  callback(): void {}
}

/** A slice sent behind one that failed, which the server discarded unread. */
export class DiscardedCopy extends Error {
  constructor(override readonly cause: Error) {
    super(`not copied: an earlier copy failed (${cause.message})`);
  }
}

class Slice {
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (error: Error) => void;

  constructor(public pieces: readonly Buffer[]) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.done.catch(() => {});
  }
}

/** What a submittable is given by pg: its connection's message senders, and the socket under them. */
interface PgConnection {
  stream: { cork(): void; uncork(): void };
  once(event: string, listener: () => void): void;
  removeListener(event: string, listener: () => void): void;
  parse(query: { text: string }): void;
  bind(config: object): void;
  execute(config: object): void;
  flush(): void;
  sync(): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}
