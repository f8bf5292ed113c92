/**
 * The Internet checksum (RFC 1071) and the TCP/UDP pseudo-header sums
 * (RFC 9293 section 3.1, RFC 8200 section 8.1), for the packet builder.
 */

/** Ones'-complement sum of `buf` folded to 16 bits, added to `initial`. */
export function onesSum(buf: Buffer, initial = 0): number {
  let sum = initial;
  const even = buf.length & ~1;
  for (let i = 0; i < even; i += 2) sum += buf.readUInt16BE(i);
  if (even !== buf.length) sum += (buf[even] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The checksum field value for `buf` (whose own checksum field is zero) after a pseudo-header sum. */
export function internetChecksum(buf: Buffer, initial = 0): number {
  return ~onesSum(buf, initial) & 0xffff;
}

/** Sum of the pseudo-header: addresses (4 or 16 bytes each), protocol and upper-layer length. */
export function pseudoHeaderSum(src: Buffer, dst: Buffer, protocol: number, length: number): number {
  let sum = onesSum(src);
  sum = onesSum(dst, sum);
  sum += protocol + (length & 0xffff) + (length >>> 16);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
