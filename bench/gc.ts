/**
 * A full garbage collection between benchmark tasks, so no task pays for the garbage the previous
 * one left behind. `pnpm bench` runs without `--expose-gc`, so the flag is set at run time and the
 * `gc` function taken from a fresh context, where V8 installs it once the flag is on.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');

/** Collects garbage now if the runtime allows it; otherwise does nothing. */
export function collectGarbage(): void {
  if (typeof gc === 'function') gc();
}
