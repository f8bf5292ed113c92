/**
 * Pure IPv4/IPv6 address and CIDR helpers (RFC 791 dotted quads, RFC 4291
 * text forms, RFC 5952 canonical output). Used to validate the desired state
 * before it becomes iptables text, and to match conntrack entries against
 * client selectors. No I/O, never throws: bad text gives `undefined`. The
 * byte-level parsing and RFC 5952 formatting are the packet layer's.
 */
import { parseIPv4, parseIPv6 } from '../../analyzers/packet/ip-parse.js';
import { formatIPv6 } from '../../analyzers/packet/ip-text.js';

export type IpFamily = 4 | 6;

export interface ParsedIp {
  readonly family: IpFamily;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

export interface ParsedCidr {
  readonly family: IpFamily;
  /** Network address with host bits cleared. */
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/** Dotted quad without leading zeros (iptables would read "010" as octal-free 10; refuse the ambiguity). */
const STRICT_IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Parses an IPv4 or IPv6 address (no brackets, no zone id). */
export function parseIp(text: string): ParsedIp | undefined {
  if (text.includes(':')) {
    if (text.includes('%')) return undefined; // zone ids have no meaning in iptables rules
    const bytes = parseIPv6(text);
    return bytes ? { family: 6, bytes: new Uint8Array(bytes) } : undefined;
  }
  if (!STRICT_IPV4.test(text)) return undefined;
  const bytes = parseIPv4(text);
  return bytes ? { family: 4, bytes: new Uint8Array(bytes) } : undefined;
}

/** Formats 4 or 16 network-order bytes; IPv6 in RFC 5952 canonical form. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  return formatIPv6(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip ? formatIp(ip.bytes) : undefined;
}

/** Parses "addr" (a host route) or "addr/prefix"; host bits are cleared. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIp(addrText);
  if (!ip) return undefined;
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > max) return undefined;
  }
  const bytes = new Uint8Array(ip.bytes);
  for (let bit = prefix; bit < max; bit++) {
    const i = bit >> 3;
    bytes[i] = (bytes[i] ?? 0) & ~(0x80 >> (bit & 7));
  }
  return { family: ip.family, bytes, prefix };
}

/** "net/prefix" in canonical form (what iptables-save prints). */
export function formatCidr(cidr: ParsedCidr): string {
  return `${formatIp(cidr.bytes)}/${cidr.prefix}`;
}

/** True when `ip` lies inside `cidr` (families must match). */
export function cidrContains(cidr: ParsedCidr, ip: ParsedIp): boolean {
  if (cidr.family !== ip.family) return false;
  for (let bit = 0; bit < cidr.prefix; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((cidr.bytes[i] ?? 0) & mask) !== ((ip.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}
