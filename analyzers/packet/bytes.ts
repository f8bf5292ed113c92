/**
 * Unchecked big- and little-endian reads for decoders that have checked the
 * length first. Buffer's readUInt16BE and kin validate the offset on every
 * call, and in the hot path's large inlined functions were reached through
 * V8's generic property load: the two were 8 % of the pipeline's profile
 * (BENCHMARKS.md). These are the same arithmetic without the checks. Out of
 * range they return garbage, not an error: callers check bounds first.
 */

export function u16be(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

export function u16le(buf: Uint8Array, off: number): number {
  return buf[off]! | (buf[off + 1]! << 8);
}

export function i32be(buf: Uint8Array, off: number): number {
  return (buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!;
}

export function u32be(buf: Uint8Array, off: number): number {
  return i32be(buf, off) >>> 0;
}
