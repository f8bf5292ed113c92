/**
 * Sampling an index in proportion to given weights, used for Zipf-like
 * keyword popularity (content popularity in P2P networks is Zipf-like: seed
 * 001 §4, citing Gunther et al. 1996). A cumulative table is built once;
 * each draw is one uniform number and a binary search, O(log n).
 */
import { ZipfWeightsError } from './errors.js';
import type { Rng } from './random.js';

/** Classic Zipf weights: the item of rank r (1-based) gets 1 / r^exponent. */
export function zipfWeights(n: number, exponent = 1): number[] {
  const out: number[] = [];
  for (let r = 1; r <= n; r++) out.push(1 / Math.pow(r, exponent));
  return out;
}

export class ZipfSampler {
  /** cumulative[i] = weights[0] + … + weights[i]. */
  private readonly cumulative: Float64Array;
  private readonly total: number;
  /** Last index with a positive weight: the search never goes past it, even if rounding makes u reach the total. */
  private readonly lastPositive: number;

  constructor(
    weights: readonly number[],
    private readonly rng: Rng,
  ) {
    if (weights.length === 0) throw new ZipfWeightsError('no weights');
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    let lastPositive = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i] as number;
      if (!Number.isFinite(w) || w < 0) throw new ZipfWeightsError(`weight ${i} is ${w}; weights must be finite and ≥ 0`);
      sum += w;
      if (w > 0) lastPositive = i;
      this.cumulative[i] = sum;
    }
    if (!(sum > 0) || !Number.isFinite(sum)) throw new ZipfWeightsError(`weights sum to ${sum}; need a positive finite sum`);
    this.total = sum;
    this.lastPositive = lastPositive;
  }

  /** How many indices the sampler draws from. */
  get size(): number {
    return this.cumulative.length;
  }

  /** Probability of index i (its weight over the total). */
  probability(i: number): number {
    if (i < 0 || i >= this.cumulative.length) return 0;
    const prev = i === 0 ? 0 : (this.cumulative[i - 1] as number);
    return ((this.cumulative[i] as number) - prev) / this.total;
  }

  /** An index in [0, size), drawn with probability weight/total. Zero-weight indices are never drawn. */
  sample(): number {
    const u = this.rng.next() * this.total;
    // First index whose cumulative weight is strictly above u: that skips zero-weight entries.
    let lo = 0;
    let hi = this.lastPositive;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] as number) > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
