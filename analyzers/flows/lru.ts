/**
 * An intrusive least-recently-used list: nodes carry their own prev/next
 * links, so touching a flow on every packet allocates nothing and costs O(1).
 */
export interface LruNode<T> {
  prev: T | null;
  next: T | null;
}

export class LruList<T extends LruNode<T>> {
  private head: T | null = null;
  private tail: T | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The least recently used node. */
  oldest(): T | null {
    return this.head;
  }

  /** Appends `node` as the most recently used; it must not be in a list. */
  push(node: T): void {
    node.prev = this.tail;
    node.next = null;
    if (this.tail !== null) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.count++;
  }

  remove(node: T): void {
    if (node.prev !== null) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next !== null) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = null;
    node.next = null;
    this.count--;
  }

  /** Marks `node` (already in this list) most recently used. */
  touch(node: T): void {
    if (this.tail === node) return;
    this.remove(node);
    this.push(node);
  }
}
