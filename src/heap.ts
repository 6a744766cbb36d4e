import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/**
 * A full garbage collection, for long bulk work (an import of a large list) to call now and then.
 * On a machine with plenty of memory V8 lets garbage pile up in the old generation for a long time,
 * so resident memory climbs with the size of the list although almost none of it is alive; one
 * collection of a heap that is nearly all garbage takes a few milliseconds and keeps memory flat.
 * The switch that exposes `gc` can only be set from inside through V8's own flags. (The same as
 * src/delivery/heap.ts, which a send uses.)
 */
export function collectGarbage(): void {
  if (!collect) {
    setFlagsFromString('--expose_gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
