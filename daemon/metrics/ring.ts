/**
 * Fixed-capacity ring buffer of timestamped samples: pushing onto a full ring
 * overwrites the oldest entry and reports it, so the caller can count the
 * eviction and know up to which timestamp history is incomplete.
 */
import { MetricsConfigError } from '../errors.js';

/** Largest ring accepted: one ring of this size is ~1.6 MB of sample objects; more is a configuration mistake. */
export const RING_MAX_CAPACITY = 65_536;

export class Ring<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > RING_MAX_CAPACITY) {
      throw new MetricsConfigError('ringCapacity', `${capacity} is not an integer in [1, ${RING_MAX_CAPACITY}]`);
    }
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** Appends `item`; returns the entry it overwrote when the ring was full, else undefined. */
  push(item: T): T | undefined {
    const slot = (this.head + this.size) % this.capacity;
    if (this.size < this.capacity) {
      this.items[slot] = item;
      this.size += 1;
      return undefined;
    }
    const evicted = this.items[this.head];
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    return evicted;
  }

  /**
   * Calls `fn` on every entry, oldest to newest. A plain loop, the one traversal of the ring: the
   * manager's tick reads every ring of every server twice a second, and a generator made those
   * reads a quarter slower.
   */
  forEach(fn: (item: T) => void): void {
    const { items, capacity } = this;
    for (let i = 0, at = this.head; i < this.size; i++, at = at + 1 === capacity ? 0 : at + 1) {
      const item = items[at];
      if (item !== undefined) fn(item);
    }
  }

  /** Oldest to newest (insertion order). */
  [Symbol.iterator](): IterableIterator<T> {
    return this.toArray()[Symbol.iterator]();
  }

  toArray(): T[] {
    const out: T[] = [];
    this.forEach((item) => out.push(item));
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.size = 0;
  }
}
