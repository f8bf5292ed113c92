/**
 * Process-wide V8 settings of every `active-router` command, applied once at
 * start-up (daemon/cli/main.ts, and the benchmarks' children that stand for a
 * command). Each is a flag `node --v8-options` lists, set at run time: it takes
 * effect at the next garbage collection.
 *
 * `--no-concurrent-array-buffer-sweeping`: Node allocates a fresh backing
 * store (malloc) for every socket read, and V8 frees the dead ones on a
 * background thread. With hundreds of sockets, that thread's frees and the
 * main thread's mallocs fight over glibc's arena lock: `perf` on the OpenNap
 * server at 200 clients × 4 searches showed the main thread sleeping in
 * `__lll_lock_wait_private` and the process at 109 % of a core. Freeing on
 * the main thread during the scavenge it already runs took the server to
 * 100 % and 5.7 → 5.0 and 7.5 → 5.8 µs per search in paired runs
 * (bench/opennap-server.ts, BENCHMARKS.md).
 *
 * `--heap-growing-percent=100`: V8 lets the old generation grow up to several
 * times its live size before the next full collection. The daemon's live set
 * is bounded (flow table, queues), and its budget is peak RSS: with 100,000
 * open flows (139 MB live after a full GC) V8's own choice peaked at
 * 270-301 MB in ten runs, six of them at 299 MB or more (target < 300);
 * doubling at most between full collections peaks at 273-286 MB, with no
 * throughput change beyond the noise in seven paired runs of `replay`
 * (bench/analyzer.ts). 40 % peaked at 257-261 MB but cost 11 % of the
 * throughput (four pairs: more full collections of a small heap).
 */
import { setFlagsFromString } from 'node:v8';

export const V8_FLAGS: readonly string[] = ['--no-concurrent-array-buffer-sweeping', '--heap-growing-percent=100'];

let applied = false;

/** Applies V8_FLAGS once per process (idempotent). */
export function applyV8Tuning(): void {
  if (applied) return;
  applied = true;
  for (const flag of V8_FLAGS) setFlagsFromString(flag);
}
