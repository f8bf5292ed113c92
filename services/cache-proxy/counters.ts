/**
 * Named counters of the cache proxy: every drop, refusal and oddity under a
 * stable snake_case name (STYLE.md §4), so nothing is silent.
 */
export class EventCounters {
  private readonly values = new Map<string, number>();

  inc(name: string, n = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** A copy, names sorted so snapshots diff cleanly. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of [...this.values.keys()].sort()) out[name] = this.values.get(name) ?? 0;
    return out;
  }
}
