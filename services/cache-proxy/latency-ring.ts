/**
 * A fixed-size ring of the last N latencies (ms) with percentiles computed
 * on demand: bounded memory whatever the search rate, and recording costs
 * one array store on the hot path.
 */
import { LATENCY_RING_SIZE } from './limits.js';

export class LatencyRing {
  private readonly values: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(capacity = LATENCY_RING_SIZE) {
    this.values = new Float64Array(Math.max(1, Math.floor(capacity)));
  }

  record(ms: number): void {
    this.values[this.next] = ms;
    this.next = (this.next + 1) % this.values.length;
    if (this.filled < this.values.length) this.filled++;
  }

  get count(): number {
    return this.filled;
  }

  /** The p-quantile (0 ≤ p ≤ 1, nearest rank) of the values held; 0 when empty. */
  percentile(p: number): number {
    if (this.filled === 0) return 0;
    const sorted = this.values.slice(0, this.filled).sort();
    const rank = Math.min(this.filled, Math.max(1, Math.ceil(p * this.filled)));
    return sorted[rank - 1] ?? 0;
  }
}
