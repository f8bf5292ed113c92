/**
 * Named event counters (Zeek's "weird" names, Suricata's event counters):
 * every oddity, drop and eviction in the analyzer layers is counted under a
 * stable snake_case dotted name such as `tcp.bad_data_offset`, and exported
 * as a snapshot for status and Prometheus metrics.
 */
export class Counters {
  private readonly values = new Map<string, number>();

  /** Adds `n` (default 1) to `name`. */
  inc(name: string, n = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + n);
  }

  /** Current value of `name` (0 when never counted). */
  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** A copy of all counters, names sorted so snapshots diff cleanly. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of [...this.values.keys()].sort()) out[name] = this.values.get(name) ?? 0;
    return out;
  }

  reset(): void {
    this.values.clear();
  }
}
