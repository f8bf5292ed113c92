/**
 * A small seedable pseudo-random generator: xoshiro128** (Blackman & Vigna,
 * "Scrambled linear pseudorandom number generators", 2018), its 128-bit
 * state filled from the seed by splitmix32. Pure and deterministic: the same
 * seed gives the same sequence on every machine, so workloads, catalogues and
 * tests are reproducible. Not for anything that needs secrecy.
 */
import { RandomRangeError } from './errors.js';

/** The least a consumer of randomness needs (ZipfSampler, catalogue helpers). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

const TWO_POW_32 = 0x1_0000_0000;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** splitmix32 step: spreads a seed over the state so nearby seeds give unrelated streams. */
function splitmix32(state: number): [next: number, out: number] {
  const s = (state + 0x9e3779b9) >>> 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [s, (z ^ (z >>> 16)) >>> 0];
}

export class Random implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** `seed` is any finite number; its integer part modulo 2^32 selects the stream. */
  constructor(seed: number) {
    let st = Number.isFinite(seed) ? Math.trunc(seed) >>> 0 : 0;
    let out: number;
    [st, out] = splitmix32(st);
    this.s0 = out;
    [st, out] = splitmix32(st);
    this.s1 = out;
    [st, out] = splitmix32(st);
    this.s2 = out;
    [, out] = splitmix32(st);
    this.s3 = out;
    // xoshiro must not start from the all-zero state (it would stay there).
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator with an exact xoshiro128** state, for checking against the reference vectors. */
  static fromState(s0: number, s1: number, s2: number, s3: number): Random {
    const r = new Random(0);
    r.s0 = s0 >>> 0;
    r.s1 = s1 >>> 0;
    r.s2 = s2 >>> 0;
    r.s3 = s3 >>> 0;
    if ((r.s0 | r.s1 | r.s2 | r.s3) === 0) r.s0 = 1;
    return r;
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform integer in [0, n), without modulo bias (rejection sampling). 1 ≤ n ≤ 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RandomRangeError(`int(n) needs an integer 1 ≤ n ≤ 2^32, got ${n}`);
    }
    // Largest multiple of n that fits in 2^32: values at or above it would bias low results.
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** One element of `arr`, uniformly. */
  pick<T>(arr: readonly T[]): T {
    if (arr.length === 0) throw new RandomRangeError('pick() from an empty array');
    return arr[this.int(arr.length)] as T;
  }

  /** A shuffled copy of `arr` (Fisher–Yates); `arr` itself is left alone. */
  shuffle<T>(arr: readonly T[]): T[] {
    const out = arr.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }
}

/** Convenience: `new Random(seed)`. */
export function createRandom(seed: number): Random {
  return new Random(seed);
}
