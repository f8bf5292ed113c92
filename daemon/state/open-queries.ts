/**
 * The state writer's memory of open queries: which `queries` row a later first
 * response or end updates, by rowid, so the table needs no unique key over
 * (server, client, seq, query time) (schema migration 2). Keyed by (server id,
 * client ip, client port, seq); the query time is kept in the entry and must
 * match, since seq restarts with every flow of a client endpoint. Bounded:
 * beyond the cap the oldest entry goes (FIFO, placement-order.ts), and every
 * entry that leaves without its query ending is counted by reason. A response
 * whose entry is gone becomes an orphan row, as one for a query never seen.
 */
import { PlacementOrder } from '../../opennap/placement-order.js';

/**
 * Open queries remembered: the daemon is sized for 100,000 concurrent flows (issue 3) and an
 * OpenNap client waits for one search at a time, so twice that leaves room for bursts of
 * pipelined searches; an entry is ~150 bytes, so the bound is ~30 MB at worst.
 */
export const MAX_OPEN_QUERIES = 200_000;

/** One query the writer may still update: not yet written (`rowid` 0, fields pending) or written. */
export interface OpenQuery {
  /** OpenQueries.key of the entry (to forget it when its insert fails). */
  key: string;
  queryTs: number;
  /** Rowid once inserted; 0 while the insert is pending in the current batch. */
  rowid: number;
  serverId: number;
  clientIp: string;
  clientPort: number;
  seq: number;
  /** Pending fields (only read before the insert; dropped after it to keep entries small). */
  keywords: string | null;
  maxResults: number | null;
  firstResponseTs: number | null;
  doneTs: number | null;
  results: number | null;
  /** Its stamp in the OpenQueries order (placement-order.ts); set by `OpenQueries.set`. */
  stamp: number;
}

export type OpenQueryDrop = 'evicted' | 'replaced' | 'expired';

export class OpenQueries {
  private readonly map = new Map<string, OpenQuery>();
  /**
   * The entries oldest first. Not the Map's own order: `keys().next()` walks past every slot deleted
   * since the Map last compacted, 44 µs an eviction at this cap (BENCHMARKS.md).
   */
  private readonly order = new PlacementOrder<string>(
    (key) => this.map.get(key)?.stamp,
    () => this.map.size,
  );

  constructor(
    private readonly onDrop: (reason: OpenQueryDrop, n: number) => void,
    readonly capacity: number = MAX_OPEN_QUERIES,
  ) {}

  get size(): number {
    return this.map.size;
  }

  static key(serverId: number, clientIp: string, clientPort: number, seq: number): string {
    // Small integers and a short ip: no float formatting (the query time is checked in the entry).
    return `${serverId} ${clientIp} ${clientPort} ${seq}`;
  }

  /** The open query with this key and query time, if remembered. */
  get(key: string, queryTs: number): OpenQuery | undefined {
    const q = this.map.get(key);
    return q !== undefined && q.queryTs === queryTs ? q : undefined;
  }

  /** Remembers a query; an entry of the same key (an older flow's query) is replaced, counted. */
  set(key: string, q: OpenQuery): void {
    if (this.map.delete(key)) this.onDrop('replaced', 1);
    else if (this.map.size >= this.capacity) {
      const oldest = this.order.takeOldest();
      if (oldest !== undefined) {
        this.map.delete(oldest);
        this.onDrop('evicted', 1);
      }
    }
    q.stamp = this.order.place(key);
    this.map.set(key, q);
  }

  /** Forgets a query that ended (not counted: that is the normal way out). */
  delete(key: string): void {
    this.map.delete(key);
  }

  /** Forgets queries older than `beforeTs` (their rows are past retention); returns how many. */
  expire(beforeTs: number): number {
    let n = 0;
    for (const [key, q] of this.map) {
      if (q.queryTs < beforeTs) {
        this.map.delete(key);
        n++;
      }
    }
    if (n > 0) this.onDrop('expired', n);
    return n;
  }

  /** Forgets everything (after a failed commit the remembered rowids may name rolled-back rows). */
  clear(): number {
    const n = this.map.size;
    // Every slot of the order is stale now; the next placements compact them away.
    this.map.clear();
    return n;
  }
}
