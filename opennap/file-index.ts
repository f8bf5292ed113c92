/**
 * The directory server's inverted index: keyword → set of shared files, as
 * the C server's `File_Table` (add_file.c `fdb_add`, search.c `fdb_search`).
 * A search looks up each keyword's set and walks the smallest one, checking
 * membership in the others, so its cost follows the rarest keyword and not
 * the library size. Pure data structure: no I/O, no clock.
 */

/** What the index needs of a file: its distinct lower-cased keywords (from `keywordsOf`). */
export interface Indexable {
  readonly keywords: readonly string[];
}

export class FileIndex<T extends Indexable> {
  private readonly byWord = new Map<string, Set<T>>();
  private count = 0;

  /** Number of files indexed. */
  get size(): number {
    return this.count;
  }

  /** Number of distinct keywords. */
  get words(): number {
    return this.byWord.size;
  }

  add(file: T): void {
    for (const word of file.keywords) {
      let set = this.byWord.get(word);
      if (set === undefined) {
        set = new Set();
        this.byWord.set(word, set);
      }
      set.add(file);
    }
    this.count++;
  }

  /** Removes a file added before; empty keyword sets are dropped so the map does not grow forever. */
  remove(file: T): void {
    for (const word of file.keywords) {
      const set = this.byWord.get(word);
      if (set === undefined) continue;
      set.delete(file);
      if (set.size === 0) this.byWord.delete(word);
    }
    this.count--;
  }

  /**
   * Files holding every word of `include` and none of `exclude`, accepted by
   * `accept`, at most `limit` of them, in the order they were shared. An
   * empty `include` matches nothing, like the C server (no token, no bin).
   */
  search(include: readonly string[], exclude: readonly string[], limit: number, accept: (file: T) => boolean): T[] {
    const out: T[] = [];
    if (include.length === 0 || limit <= 0) return out;
    const sets: Set<T>[] = [];
    for (const word of include) {
      const set = this.byWord.get(word);
      if (set === undefined) return out; // a keyword nobody shares: no match at all
      sets.push(set);
    }
    if (sets.length > 1) sets.sort((a, b) => a.size - b.size);
    const smallest = sets[0]!;
    const excluded: Set<T>[] = [];
    for (const word of exclude) {
      const set = this.byWord.get(word);
      if (set !== undefined) excluded.push(set);
    }
    outer: for (const file of smallest) {
      for (let i = 1; i < sets.length; i++) if (!sets[i]!.has(file)) continue outer;
      for (const set of excluded) if (set.has(file)) continue outer;
      if (!accept(file)) continue;
      out.push(file);
      if (out.length >= limit) break;
    }
    return out;
  }
}
