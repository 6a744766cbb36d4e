import { setFlagsFromString } from 'node:v8';
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
