/**
 * The IPv4 address encoding of OpenNap messages 201, 204 and 501: an
 * unsigned 32-bit decimal integer. The C server prints `con->ip`, which holds
 * `sin_addr.s_addr` (network byte order) read as a host integer on a
 * little-endian machine, so 1.2.3.4 travels as 1 + 2·2⁸ + 3·2¹⁶ + 4·2²⁴.
 */

/** Dotted quad → the decimal number OpenNap sends. Returns NaN for a malformed address. */
export function ipToNapster(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) return Number.NaN;
  let value = 0;
  for (let i = 3; i >= 0; i--) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return Number.NaN;
    const octet = Number(p);
    if (octet > 255) return Number.NaN;
    value = value * 256 + octet;
  }
  return value;
}

/** The decimal number OpenNap sends → dotted quad; undefined when out of range. */
export function napsterToIp(value: number): string | undefined {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) return undefined;
  return `${value & 0xff}.${(value >>> 8) & 0xff}.${(value >>> 16) & 0xff}.${(value >>> 24) & 0xff}`;
}
