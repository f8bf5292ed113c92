/**
 * Mean and percentiles of a set of samples (RT_av, p50, p99 of ARCHITECTURE.md's
 * metrics). Percentile method: nearest rank (the definition in NIST's
 * Engineering Statistics Handbook / Wikipedia "Percentile, nearest-rank"):
 * the p-th percentile of n ascending values is the value at 1-based rank
 * ceil(p/100 · n), and the minimum for p = 0. It always returns an observed
 * sample (no interpolation), so p99 of a response-time window is a response
 * time some client really waited.
 */
import { MetricsConfigError } from '../errors.js';

function checkP(p: number): void {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new MetricsConfigError('percentile', `${p} is not in [0, 100]`);
}

/** Nearest-rank percentile of values already sorted ascending; `null` for no values. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number | null {
  checkP(p);
  const n = sorted.length;
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sorted[Math.min(rank, n) - 1] ?? null;
}

/** Nearest-rank percentile of unsorted values (copies, does not reorder the input). */
export function percentile(values: readonly number[], p: number): number | null {
  return percentileSorted([...values].sort((a, b) => a - b), p);
}

export function mean(values: ArrayLike<number>): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

export interface Distribution {
  count: number;
  avg: number | null;
  p50: number | null;
  p99: number | null;
}

/**
 * Mean, p50 and p99 in one sort. A Float64Array sorts numerically in native code, several times
 * faster than Array#sort with a comparator on the 10^5 samples of a busy window.
 */
export function distribution(values: readonly number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  return { count: sorted.length, avg: mean(sorted), p50: percentileSorted(sorted, 50), p99: percentileSorted(sorted, 99) };
}
