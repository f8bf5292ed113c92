/**
 * A function of a keyword array, cached by the array's identity. The
 * analyzers' shared parse cache hands the same array to every repeat of a
 * search (and a query's events all carry it), so per-event work on keywords
 * (their JSON for the database, their sorted key for the warm-start store) is
 * done once per distinct search. Weak: it holds no array alive. The length is
 * re-checked in case an array was changed after it was first seen.
 */
export function memoByArray<A extends readonly unknown[], R>(compute: (array: A) => R): (array: A) => R {
  const memo = new WeakMap<A, { length: number; value: R }>();
  return (array: A): R => {
    const hit = memo.get(array);
    if (hit !== undefined && hit.length === array.length) return hit.value;
    const value = compute(array);
    memo.set(array, { length: array.length, value });
    return value;
  };
}
