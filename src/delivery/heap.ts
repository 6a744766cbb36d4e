import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/**
 * A full garbage collection, for a long send to call every few thousand messages. On a machine
 * with plenty of memory V8 lets garbage pile up in the old generation for a long time (each message
 * leaves a little behind: its journal row, its promises), so a send's resident memory would climb
 * with the number of readers although almost none of it is alive. One collection of a heap that is
 * nearly all garbage takes a few milliseconds, and keeps memory flat from a hundred readers to a
 * million. The switch that exposes `gc` can only be set from inside through V8's own flags.
 */
export function collectGarbage(): void {
  if (!collect) {
    setFlagsFromString('--expose_gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
