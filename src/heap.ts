import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/**
 * A full garbage collection, for long bulk work (an import of a large list, a send to many
 * readers) to call now and then. On a machine with plenty of memory V8 lets garbage pile up in the
 * old generation for a long time (each message or row leaves a little behind: its journal row, its
 * promises), so resident memory climbs with the size of the job although almost none of it is
 * alive; one collection of a heap that is nearly all garbage takes a few milliseconds and keeps
 * memory flat from a hundred readers to a million. The switch that exposes `gc` can only be set
 * from inside through V8's own flags.
 */
export function collectGarbage(): void {
  if (!collect) {
    setFlagsFromString('--expose_gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}

const MB = 1024 * 1024;

/**
 * Full collections only when the heap has grown well past what was alive after the last one: for
 * bulk work whose garbage outlives V8's young generation (an import holds a slice or two of rows
 * across each hand-over), where V8 alone lets resident memory climb past digest's goal, and a
 * collection at fixed intervals costs more than the work it tidies after (a fifth of a large
 * import, at every 50,000 rows). Call check() as often as is cheap: it reads one figure.
 */
export class HeapCeiling {
  private limit: number;

  /**
   * @param floor no collection while the heap holds less than this (MB)
   * @param headroom growth allowed over what the last collection left alive (MB), so that a large
   *   live set (a long list of rejected rows) cannot make every check collect
   */
  constructor(
    private readonly floor = 40,
    private readonly headroom = 24,
  ) {
    this.limit = floor * MB;
  }

  check(): void {
    if (getHeapStatistics().used_heap_size <= this.limit) return;
    collectGarbage();
    this.limit = Math.max(this.floor * MB, getHeapStatistics().used_heap_size + this.headroom * MB);
  }
}
