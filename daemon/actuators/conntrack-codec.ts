/**
 * Pure helpers for the conntrack binding: the byte order libnetfilter_conntrack
 * expects (nfct_set_attr_u32/u16 take addresses and ports as the raw
 * network-order bytes read as a host integer, i.e. what htonl/htons give),
 * protocol names, and matching entries against a flow filter. No I/O.
 */
import type { IpFamily, ParsedCidr, ParsedIp } from './ip-address.js';
import { cidrContains, formatIp, parseCidr, parseIp } from './ip-address.js';

export const AF_INET = 2;
export const AF_INET6 = 10;

const PROTO_NUMBERS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132 };

export function protocolNumber(name: string): number | undefined {
  return PROTO_NUMBERS[name];
}

export function protocolName(num: number): string {
  for (const [name, n] of Object.entries(PROTO_NUMBERS)) if (n === num) return name;
  return `proto-${num}`;
}

export function familyToAf(family: IpFamily): number {
  return family === 4 ? AF_INET : AF_INET6;
}

/** htonl of an IPv4 address, as the host-order integer nfct_set_attr_u32 wants. */
export function ipv4ToNetU32(bytes: Uint8Array): number {
  return new Uint32Array(Uint8Array.from(bytes.subarray(0, 4)).buffer)[0] ?? 0;
}

/** Inverse of ipv4ToNetU32: the value nfct_get_attr_u32 returned, back to 4 bytes. */
export function netU32ToIpv4(value: number): Uint8Array {
  return new Uint8Array(Uint32Array.of(value >>> 0).buffer);
}

/** htons(port). */
export function portToNetU16(port: number): number {
  return new Uint16Array(Uint8Array.of((port >> 8) & 0xff, port & 0xff).buffer)[0] ?? 0;
}

/** ntohs(value). */
export function netU16ToPort(value: number): number {
  const b = new Uint8Array(Uint16Array.of(value & 0xffff).buffer);
  return ((b[0] ?? 0) << 8) | (b[1] ?? 0);
}

export interface ConntrackEntry {
  readonly family: IpFamily;
  /** "tcp", "udp", "icmp", ... or "proto-N". */
  readonly protocol: string;
  /** Original direction (as the first packet saw it). */
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
  /** Reply direction: differs from the swapped original when NAT applies. */
  readonly replySrc: string;
  readonly replyDst: string;
  readonly replySport: number;
  readonly replyDport: number;
  /** TCP state number (nf_conntrack_tcp: 3 = ESTABLISHED), undefined for other protocols. */
  readonly tcpState: number | undefined;
  readonly mark: number;
  readonly status: number;
  /** Seconds left. */
  readonly timeout: number;
  readonly id: number;
}

/** The original-direction tuple that identifies a flow for NFCT_Q_DESTROY. */
export interface FlowTuple {
  readonly protocol: string;
  readonly src: string;
  readonly dst: string;
  readonly sport: number;
  readonly dport: number;
}

export interface FlowFilter {
  readonly protocol?: string;
  /** Original destination; port optional. */
  readonly dst?: { readonly ip: string; readonly port?: number };
  /** Original source must be in one of these (absent or empty: any). */
  readonly srcCidrs?: readonly string[];
  /** Original source must be in none of these. */
  readonly except?: readonly string[];
}

export interface CompiledFilter {
  readonly family: IpFamily | undefined;
  readonly protocol: string | undefined;
  readonly dst: ParsedIp | undefined;
  readonly dport: number | undefined;
  readonly src: readonly ParsedCidr[];
  readonly except: readonly ParsedCidr[];
}

export type CompileResult = { readonly kind: 'ok'; readonly filter: CompiledFilter } | { readonly kind: 'error'; readonly detail: string };

function cidrs(list: readonly string[] | undefined, what: string): ParsedCidr[] | string {
  const out: ParsedCidr[] = [];
  for (const text of list ?? []) {
    const c = parseCidr(text);
    if (!c) return `${what}: "${text}" is not a CIDR`;
    out.push(c);
  }
  return out;
}

export function compileFilter(filter: FlowFilter = {}): CompileResult {
  const dst = filter.dst ? parseIp(filter.dst.ip) : undefined;
  if (filter.dst && !dst) return { kind: 'error', detail: `dst.ip: "${filter.dst.ip}" is not an address` };
  const port = filter.dst?.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    return { kind: 'error', detail: `dst.port: ${port} out of range` };
  }
  if (filter.protocol !== undefined && protocolNumber(filter.protocol) === undefined) {
    return { kind: 'error', detail: `protocol: unknown "${filter.protocol}"` };
  }
  const src = cidrs(filter.srcCidrs, 'srcCidrs');
  if (typeof src === 'string') return { kind: 'error', detail: src };
  const except = cidrs(filter.except, 'except');
  if (typeof except === 'string') return { kind: 'error', detail: except };
  const families = new Set<IpFamily>([...src, ...except].map((c) => c.family));
  if (dst) families.add(dst.family);
  if (families.size > 1) return { kind: 'error', detail: 'mixed IPv4 and IPv6 in one filter' };
  const [family] = [...families];
  return { kind: 'ok', filter: { family, protocol: filter.protocol, dst, dport: port, src, except } };
}

/** Whether a conntrack entry (original direction) matches a compiled filter. */
export function entryMatches(e: ConntrackEntry, f: CompiledFilter): boolean {
  if (f.family !== undefined && e.family !== f.family) return false;
  if (f.protocol !== undefined && e.protocol !== f.protocol) return false;
  if (f.dst && e.dst !== formatIp(f.dst.bytes)) return false;
  if (f.dport !== undefined && e.dport !== f.dport) return false;
  if (f.src.length === 0 && f.except.length === 0) return true;
  const src = parseIp(e.src);
  if (!src) return false;
  if (f.src.length > 0 && !f.src.some((c) => cidrContains(c, src))) return false;
  return !f.except.some((c) => cidrContains(c, src));
}
