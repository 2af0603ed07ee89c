// V8's garbage collector settings for the TaskManager process. They are process-wide, so they are
// set on the main thread before any slot thread starts.
import { setFlagsFromString } from 'node:v8';
import type { Configuration } from '../common/config.js';

/**
 * A scavenge of a slot thread's young generation is split over V8's helper threads (the process has
 * four, whatever the cores) and waits for the slowest: while every core runs a slot thread, a
 * helper's part waits for a core, and the slot's thread idles until it gets one. The keyed count at
 * parallelism 2 in one TaskManager of two slots was faster without it in 9 of 10 and 7 of 10
 * paired runs (ratio medians 1.02 and 1.04); elsewhere it made no measurable difference
 * (bench/HISTORY.md).
 */
export function applyGarbageCollectionSettings(conf: Configuration): void {
  if (!conf.getBoolean('taskmanager.gc.parallel-scavenge')) setFlagsFromString('--no-parallel-scavenge');
}
