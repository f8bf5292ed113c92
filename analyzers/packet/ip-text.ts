/**
 * IP address bytes → text, on the hot path. IPv4 is dotted decimal; IPv6 is
 * the RFC 5952 canonical form (lower-case hex, no leading zeros, the longest
 * run of two or more zero groups — the first on a tie — shortened to "::",
 * IPv4-mapped addresses written ::ffff:a.b.c.d as section 5 recommends).
 * Small direct-mapped caches keep recent addresses' strings so a busy flow
 * does not build the same string for every packet; an overwritten slot only
 * costs a rebuild, nothing is lost, so no eviction is counted.
 */
import { i32be } from './bytes.js';

/** IPv4 cache slots: a power of two; 4096 covers the active hosts of a busy router link (~50 KB). */
export const IPV4_TEXT_CACHE_SLOTS = 4096;
/** IPv6 cache slots: a power of two; fewer than IPv4 since each key is 16 bytes (~40 KB). */
export const IPV6_TEXT_CACHE_SLOTS = 1024;

const v4Keys = new Int32Array(IPV4_TEXT_CACHE_SLOTS);
const v4Text: (string | undefined)[] = new Array<string | undefined>(IPV4_TEXT_CACHE_SLOTS).fill(undefined);
const V4_SHIFT = 32 - Math.log2(IPV4_TEXT_CACHE_SLOTS);

/** Dotted text of the IPv4 address at `buf[off..off+4)`; the caller has checked the length. */
export function ipv4Text(buf: Buffer, off: number): string {
  return ipv4TextOf(i32be(buf, off));
}

/** Dotted text of an IPv4 address as its 32 bits (signed or unsigned): for a decoder that read them already. */
export function ipv4TextOf(address: number): string {
  const addr = address | 0;
  const slot = Math.imul(addr, 0x9e3779b1) >>> V4_SHIFT;
  const cached = v4Text[slot];
  if (cached !== undefined && v4Keys[slot] === addr) return cached;
  const text = `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
  v4Keys[slot] = addr;
  v4Text[slot] = text;
  return text;
}

const v6Keys = new Int32Array(IPV6_TEXT_CACHE_SLOTS * 4);
const v6Text: (string | undefined)[] = new Array<string | undefined>(IPV6_TEXT_CACHE_SLOTS).fill(undefined);
const V6_SHIFT = 32 - Math.log2(IPV6_TEXT_CACHE_SLOTS);

/** Canonical text of the IPv6 address at `buf[off..off+16)`; the caller has checked the length. */
export function ipv6Text(buf: Buffer, off: number): string {
  const a = i32be(buf, off);
  const b = i32be(buf, off + 4);
  const c = i32be(buf, off + 8);
  const d = i32be(buf, off + 12);
  const slot = Math.imul(a ^ Math.imul(b, 31) ^ Math.imul(c, 961) ^ Math.imul(d, 29791), 0x9e3779b1) >>> V6_SHIFT;
  const cached = v6Text[slot];
  const k = slot * 4;
  if (cached !== undefined && v6Keys[k] === a && v6Keys[k + 1] === b && v6Keys[k + 2] === c && v6Keys[k + 3] === d) {
    return cached;
  }
  const text = formatIPv6(buf, off);
  v6Keys[k] = a;
  v6Keys[k + 1] = b;
  v6Keys[k + 2] = c;
  v6Keys[k + 3] = d;
  v6Text[slot] = text;
  return text;
}

/** RFC 5952 text of 16 address bytes at `off`, without the cache. */
export function formatIPv6(buf: Buffer, off = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(off + i * 2));
  // IPv4-mapped (::ffff:0:0/96): RFC 5952 section 5 asks for the dotted tail.
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `::ffff:${buf[off + 12]}.${buf[off + 13]}.${buf[off + 14]}.${buf[off + 15]}`;
  }
  // Longest run of zero groups, length >= 2, first one on ties (section 4.2).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}
