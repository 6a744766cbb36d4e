/**
 * A `COPY … FROM STDIN` whose rows go out with the query itself, as a pg "submittable" (an object
 * with submit() and handlers for the server's messages: pg's interface for queries of one's own,
 * which pg-copy-streams also uses). pg-copy-streams waits for the server's CopyInResponse before it
 * sends a row, and on a thread that reads a file for long stretches that answer waits too: per slice
 * of an import, a round trip and a wait for the event loop, with the server idle. Here the server
 * finds the rows already there when it starts the COPY. Should the statement fail before or during
 * the COPY, PostgreSQL reports the error and discards the copy data that follows (outside copy mode
 * it ignores such messages, as the protocol allows for this), and the query rejects with the error.
 */
export class PipelinedCopy {
  /** Settles when the server has finished: resolved once the COPY (and any statement before it) committed to the transaction, or rejected with its error. */
  readonly done: Promise<void>;
  private settle!: { resolve: () => void; reject: (error: Error) => void };

  constructor(
    private readonly text: string,
    private readonly pieces: readonly Buffer[],
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  submit(connection: PgConnection): void {
    connection.query(this.text);
    for (const piece of this.pieces) connection.sendCopyFromChunk(piece);
    connection.endCopyFrom();
  }

  // The rows are on their way already.
  handleCopyInResponse(): void {}
  handleCommandComplete(): void {}

  handleError(error: Error): void {
    this.settle.reject(error);
  }

  handleReadyForQuery(): void {
    this.settle.resolve();
  }

  // Defined so that pg can put its query_timeout behind it, as with its own queries.
  callback(): void {}
}

/** What a submittable is given by pg: its connection's message senders. */
interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}
