/**
 * Counters of the directory server: searches (total and per second), result
 * lines sent, and every error or drop by its stable snake_case code
 * (STYLE.md §4), so nothing the server refuses or evicts is silent.
 */

export interface ServerStatsSnapshot {
  users: number;
  files: number;
  /** Connections open, logged in or not. */
  connections: number;
  searches: number;
  /** Searches answered during the last complete second. */
  searchesPerSecond: number;
  /** 201 lines sent. */
  resultsSent: number;
  /** Errors, drops and evictions by code, e.g. `opennap.frame_too_large`. */
  errors: Record<string, number>;
}

export class ServerCounters {
  searches = 0;
  resultsSent = 0;
  searchesPerSecond = 0;
  private searchesAtLastTick = 0;
  private readonly errors = new Map<string, number>();

  /** Counts one occurrence of `code`. */
  count(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** How many times `code` was counted. */
  get(code: string): number {
    return this.errors.get(code) ?? 0;
  }

  /** Called once per second by the server's timer: the rate is the delta since the last call. */
  tick(): void {
    this.searchesPerSecond = this.searches - this.searchesAtLastTick;
    this.searchesAtLastTick = this.searches;
  }

  snapshot(users: number, files: number, connections: number): ServerStatsSnapshot {
    return {
      users,
      files,
      connections,
      searches: this.searches,
      searchesPerSecond: this.searchesPerSecond,
      resultsSent: this.resultsSent,
      errors: Object.fromEntries(this.errors),
    };
  }
}
