/**
 * Writes gathered into groups, one transaction each: a group commits as soon as the one before it
 * has, holding whatever arrived meanwhile. Nothing waits on a timer, so a write is durable within
 * about two commits of being asked for (a few milliseconds on a local database), however busy the
 * send; yet a busy send still pays one commit for many writes, not one each.
 */
export class GroupCommit<Item, Result> {
  private queue: { item: Item; done: (result: Result) => void; fail: (error: unknown) => void }[] = [];
  private running?: Promise<void>;

  /** `commit` writes one group in one transaction and returns a result per item, in order. */
  constructor(private readonly commit: (items: Item[]) => Promise<Result[]>) {}

  /** Resolves once the item's group has committed; rejects if that commit failed. */
  add(item: Item): Promise<Result> {
    return new Promise((done, fail) => {
      this.queue.push({ item, done, fail });
      this.running ??= this.run();
    });
  }

  /** Waits until everything added so far has been committed (or has failed). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    // Started from add(): let the code that called it finish its turn, so that writes asked for
    // together (several workers answered in one tick) share the first group too.
    await Promise.resolve();
    while (this.queue.length) {
      const group = this.queue.splice(0);
      try {
        const results = await this.commit(group.map((entry) => entry.item));
        group.forEach((entry, index) => entry.done(results[index]!));
      } catch (error) {
        for (const entry of group) entry.fail(error);
      }
    }
    this.running = undefined;
  }
}
