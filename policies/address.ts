/**
 * IPv4/IPv6 addresses, endpoints and CIDRs as written in a policy, parsed to
 * bytes and printed in canonical form (dotted quad; RFC 5952 for IPv6, the form
 * the analyzers use). Pure: strings in, result values out, never throws.
 */
import type { ParseResult } from './units.js';

export type IpFamily = 4 | 6;

/** A parsed address: one host (`prefix` absent), a host and port, or a network (`prefix`). */
export interface Address {
  family: IpFamily;
  /** Canonical text: dotted quad, or RFC 5952 IPv6. */
  ip: string;
  port?: number;
  prefix?: number;
}

/** Parses dotted-quad IPv4 or IPv6 text to its 4 or 16 bytes; undefined if it is neither. */
export function parseIpBytes(text: string): Uint8Array | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] ?? '';
    // Leading zeros are refused: some tools read "010" as octal, so its meaning is ambiguous.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  // An embedded IPv4 tail may only end the whole text: the part after "::", or everything when there is none.
  const head = parseGroups(halves[0] ?? '', halves.length === 1);
  if (head === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const tail = parseGroups(halves[1] ?? '', true);
    if (tail === undefined || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) return undefined;
    groups = head;
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** Hex groups separated by ':'; the last may be a dotted IPv4 (two groups) when `allowV4Tail`. */
function parseGroups(text: string, allowV4Tail: boolean): number[] | undefined {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    if (i === parts.length - 1 && allowV4Tail && p.includes('.')) {
      const v4 = parseIpv4(p);
      if (v4 === undefined) return undefined;
      groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
    groups.push(parseInt(p, 16));
  }
  return groups;
}

/** Canonical text of 4 or 16 address bytes (RFC 5952 for IPv6, with ::ffff:a.b.c.d for mapped IPv4). */
export function formatIpBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((bytes[i * 2] ?? 0) << 8) | (bytes[i * 2 + 1] ?? 0));
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return `::ffff:${Array.from(bytes.subarray(12)).join('.')}`;
  // Longest run of two or more zero groups, the first one on a tie (RFC 5952 4.2).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Canonical text of an IP address, or undefined if `text` is not one. */
export function canonicalIp(text: string): string | undefined {
  const b = parseIpBytes(text);
  return b === undefined ? undefined : formatIpBytes(b);
}

export interface AddressForms {
  /** Accept ":PORT" (IPv6: "[ip]:PORT"). */
  port: 'forbidden' | 'optional' | 'required';
  /** Accept "/PREFIX". */
  prefix: boolean;
  /** Accept port 0 (an automatic port, for listen addresses). */
  portZero: boolean;
}

/** Parses "IP", "IP:PORT", "[IPv6]:PORT" or "IP/PREFIX" as `forms` allows; reasons name what is wrong. */
export function parseAddress(input: string, forms: AddressForms): ParseResult<Address> {
  const text = input.trim();
  let host = text;
  let portText: string | undefined;
  let prefixText: string | undefined;

  const slash = host.indexOf('/');
  if (slash >= 0) {
    prefixText = host.slice(slash + 1);
    host = host.slice(0, slash);
  }
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return fail(input, 'a "[" without its "]"');
    const rest = host.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return fail(input, `unexpected ${JSON.stringify(rest)} after "]"`);
    if (rest !== '') portText = rest.slice(1);
    host = host.slice(1, close);
    if (!host.includes(':')) return fail(input, 'brackets are only for IPv6 addresses');
  } else if (host.includes(':') && host.indexOf(':') === host.lastIndexOf(':')) {
    // One colon: IPv4 with ":PORT". Several colons: IPv6 without a port (a port needs "[ip]:PORT").
    const colon = host.indexOf(':');
    portText = host.slice(colon + 1);
    host = host.slice(0, colon);
  }
  if (host.includes('%')) return fail(input, 'IPv6 zone ids ("%eth0") are not supported');

  const bytes = parseIpBytes(host);
  if (bytes === undefined) return fail(input, `${JSON.stringify(host)} is not an IPv4 or IPv6 address`);
  const family: IpFamily = bytes.length === 4 ? 4 : 6;
  const out: Address = { family, ip: formatIpBytes(bytes) };

  if (portText !== undefined) {
    if (forms.port === 'forbidden') return fail(input, 'no port is allowed here');
    if (!/^\d{1,5}$/.test(portText)) return fail(input, `port ${JSON.stringify(portText)} is not a number`);
    const port = Number(portText);
    const min = forms.portZero ? 0 : 1;
    if (port < min || port > 65535) return fail(input, `port ${port} is outside ${min}-65535`);
    out.port = port;
  } else if (forms.port === 'required') {
    return fail(input, family === 6 ? 'a port is required ("[IPv6]:PORT")' : 'a port is required ("IP:PORT")');
  }

  if (prefixText !== undefined) {
    if (!forms.prefix) return fail(input, 'a network prefix ("/24") is not allowed here');
    if (out.port !== undefined) return fail(input, 'an address cannot have both a port and a prefix');
    const max = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
      return fail(input, `prefix ${JSON.stringify(prefixText)} must be a number from 0 to ${max} for IPv${family}`);
    }
    const prefix = Number(prefixText);
    const network = maskBytes(bytes, prefix);
    if (!network.every((b, i) => b === bytes[i])) {
      // Host bits set is almost always a typo for the network address; say which one.
      return fail(input, `host bits are set; did you mean ${formatIpBytes(network)}/${prefix}?`);
    }
    out.prefix = prefix;
  }
  return { kind: 'ok', value: out };
}

function fail(input: string, why: string): ParseResult<Address> {
  return { kind: 'error', reason: `${JSON.stringify(input)}: ${why}` };
}

function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = (bytes[i] ?? 0) & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/**
 * True when `ip` (text) lies in `net` (an Address; no prefix = that single host).
 * Different families never match; an IPv4-mapped IPv6 address is not its IPv4 twin.
 */
export function addressContains(net: Address, ip: string): boolean {
  const a = parseIpBytes(net.ip);
  const b = parseIpBytes(ip);
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  const prefix = net.prefix ?? a.length * 8;
  const ma = maskBytes(a, prefix);
  const mb = maskBytes(b, prefix);
  return ma.every((x, i) => x === mb[i]);
}

/** True for 127.0.0.0/8 and ::1: the only places the status endpoint may listen (least privilege). */
export function isLoopback(addr: Address): boolean {
  if (addr.family === 4) return addr.ip.startsWith('127.');
  return addr.ip === '::1';
}

/** "10.0.0.1", "10.0.0.1:8888", "[::1]:8888", "10.0.0.0/8". */
export function formatAddress(a: Address): string {
  const host = a.family === 6 && a.port !== undefined ? `[${a.ip}]` : a.ip;
  if (a.port !== undefined) return `${host}:${a.port}`;
  if (a.prefix !== undefined) return `${a.ip}/${a.prefix}`;
  return host;
}
