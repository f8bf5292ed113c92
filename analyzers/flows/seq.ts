/**
 * TCP sequence-number arithmetic modulo 2^32 (RFC 9293 section 3.4): the
 * signed distance is valid while the two numbers are less than 2^31 apart,
 * which holds for any window a reassembler tracks.
 */

/** Signed distance `a - b` in sequence space. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `a + n` in sequence space (uint32). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
