/**
 * Validation and normalisation of a DesiredState before it becomes iptables
 * text: every address canonical, every name safe to put in an
 * iptables-restore line unquoted (or quoted in a comment), every list
 * bounded. Pure; returns a result instead of throwing.
 */
import type { IpFamily } from './ip-address.js';
import { canonicalIp, formatCidr, parseCidr, parseIp } from './ip-address.js';
import type { DesiredState, L4Protocol, Redirect, UpstreamSnat } from './types.js';

/** Bound on redirects in one desired state: each costs ~5 rules and 3 chains; beyond this the manager is misbehaving. */
export const MAX_REDIRECTS = 1024;
/** Bound on upstream SNAT rules: one per live proxy upstream connection (the proxy caps its connections well below this). */
export const MAX_SNATS = 16_384;
/** Bound on each client selector list: rules are the product interfaces x sources, so keep each factor small. */
export const MAX_SELECTOR_ENTRIES = 64;
/** iptables comments are at most 256 bytes; our tag adds ~35 bytes to the id. */
export const MAX_ID_LENGTH = 200;

/** Ids go into comments: no quotes, spaces, backslashes or '@' (our hash separator). */
const ID_PATTERN = /^[A-Za-z0-9._:/[\]-]+$/;
/** Linux IFNAMSIZ is 16 including the NUL; iptables allows a trailing "+" wildcard. */
const IFACE_PATTERN = /^[A-Za-z0-9_.-]{1,15}\+?$/;

export interface NormalEndpoint {
  readonly ip: string;
  readonly port: number;
}

export interface NormalRedirect {
  readonly id: string;
  readonly family: IpFamily;
  readonly protocol: L4Protocol;
  readonly server: NormalEndpoint;
  readonly to: NormalEndpoint;
  readonly inInterfaces: readonly string[];
  /** Canonical "net/prefix" strings. */
  readonly sources: readonly string[];
  readonly except: readonly string[];
}

export interface NormalSnat {
  readonly id: string;
  readonly family: IpFamily;
  readonly localPort: number;
  readonly origin: NormalEndpoint;
  readonly toSource: string;
}

export interface NormalDesiredState {
  readonly redirects: readonly NormalRedirect[];
  readonly snats: readonly NormalSnat[];
}

export type NormalizeResult =
  | { readonly kind: 'ok'; readonly value: NormalDesiredState }
  | { readonly kind: 'error'; readonly problems: readonly string[] };

function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
}

function checkId(id: unknown, where: string, seen: Set<string>, problems: string[]): id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || !ID_PATTERN.test(id)) {
    problems.push(`${where}: id must be 1..${MAX_ID_LENGTH} chars of [A-Za-z0-9._:/[]-]`);
    return false;
  }
  if (seen.has(id)) {
    problems.push(`${where}: duplicate id "${id}"`);
    return false;
  }
  seen.add(id);
  return true;
}

function endpoint(
  ep: { ip?: unknown; port?: unknown } | undefined,
  where: string,
  problems: string[],
): (NormalEndpoint & { family: IpFamily }) | undefined {
  const ip = typeof ep?.ip === 'string' ? parseIp(ep.ip) : undefined;
  if (!ip) {
    problems.push(`${where}.ip: not an IPv4/IPv6 address`);
    return undefined;
  }
  if (!isPort(ep?.port)) {
    problems.push(`${where}.port: must be an integer 1..65535`);
    return undefined;
  }
  return { ip: canonicalIp(ep.ip as string) ?? '', port: ep.port, family: ip.family };
}

function cidrList(list: readonly unknown[] | undefined, family: IpFamily, where: string, problems: string[]): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.length > MAX_SELECTOR_ENTRIES) {
    problems.push(`${where}: must be a list of at most ${MAX_SELECTOR_ENTRIES} entries`);
    return [];
  }
  const out: string[] = [];
  list.forEach((text, i) => {
    const c = typeof text === 'string' ? parseCidr(text) : undefined;
    if (!c) problems.push(`${where}[${i}]: not a CIDR or address`);
    else if (c.family !== family) problems.push(`${where}[${i}]: IPv${c.family} in an IPv${family} redirect`);
    else if (!out.includes(formatCidr(c))) out.push(formatCidr(c));
  });
  return out;
}

function normalizeRedirect(r: Redirect, i: number, seen: Set<string>, problems: string[]): NormalRedirect | undefined {
  const where = `redirects[${i}]`;
  const before = problems.length;
  checkId(r?.id, where, seen, problems);
  if (r?.protocol !== 'tcp' && r?.protocol !== 'udp') problems.push(`${where}.protocol: must be "tcp" or "udp"`);
  const server = endpoint(r?.server, `${where}.server`, problems);
  const to = endpoint(r?.to, `${where}.to`, problems);
  if (server && to && server.family !== to.family) problems.push(`${where}: server and to differ in address family`);
  const family = server?.family ?? 4;
  const ifaces = r?.clients?.inInterfaces ?? [];
  if (!Array.isArray(ifaces) || ifaces.length > MAX_SELECTOR_ENTRIES) {
    problems.push(`${where}.clients.inInterfaces: must be a list of at most ${MAX_SELECTOR_ENTRIES} names`);
  } else {
    ifaces.forEach((name, k) => {
      if (typeof name !== 'string' || !IFACE_PATTERN.test(name)) {
        problems.push(`${where}.clients.inInterfaces[${k}]: not an interface name`);
      }
    });
  }
  const sources = cidrList(r?.clients?.sources, family, `${where}.clients.sources`, problems);
  const except = cidrList(r?.clients?.except, family, `${where}.clients.except`, problems);
  if (problems.length > before || !server || !to) return undefined;
  return {
    id: r.id,
    family,
    protocol: r.protocol,
    server: { ip: server.ip, port: server.port },
    to: { ip: to.ip, port: to.port },
    inInterfaces: [...new Set(ifaces)],
    sources,
    except,
  };
}

function normalizeSnat(s: UpstreamSnat, i: number, seen: Set<string>, problems: string[]): NormalSnat | undefined {
  const where = `snats[${i}]`;
  const before = problems.length;
  checkId(s?.id, where, seen, problems);
  if (!isPort(s?.localPort)) problems.push(`${where}.localPort: must be an integer 1..65535`);
  const origin = endpoint(s?.origin, `${where}.origin`, problems);
  const src = typeof s?.toSource === 'string' ? parseIp(s.toSource) : undefined;
  if (!src) problems.push(`${where}.toSource: not an IPv4/IPv6 address`);
  else if (origin && src.family !== origin.family) problems.push(`${where}: toSource and origin differ in address family`);
  if (problems.length > before || !origin || !src) return undefined;
  return {
    id: s.id,
    family: origin.family,
    localPort: s.localPort,
    origin: { ip: origin.ip, port: origin.port },
    toSource: canonicalIp(s.toSource) ?? '',
  };
}

/** Validates and canonicalises a desired state; order of redirects is kept (first match wins in iptables). */
export function normalizeDesiredState(desired: DesiredState): NormalizeResult {
  const problems: string[] = [];
  const redirects = Array.isArray(desired?.redirects) ? desired.redirects : [];
  const snats = Array.isArray(desired?.snats) ? desired.snats : [];
  if (!Array.isArray(desired?.redirects)) problems.push('redirects: must be a list');
  if (!Array.isArray(desired?.snats)) problems.push('snats: must be a list');
  if (redirects.length > MAX_REDIRECTS) problems.push(`redirects: more than ${MAX_REDIRECTS}`);
  if (snats.length > MAX_SNATS) problems.push(`snats: more than ${MAX_SNATS}`);
  if (problems.length > 0) return { kind: 'error', problems };
  // Redirect and SNAT ids share one namespace only within their kind (their tags differ).
  const redirectIds = new Set<string>();
  const snatIds = new Set<string>();
  const outR = redirects.map((r, i) => normalizeRedirect(r, i, redirectIds, problems));
  const outS = snats.map((s, i) => normalizeSnat(s, i, snatIds, problems));
  if (problems.length > 0) return { kind: 'error', problems };
  return {
    kind: 'ok',
    value: {
      redirects: outR.filter((r): r is NormalRedirect => r !== undefined),
      snats: outS.filter((s): s is NormalSnat => s !== undefined),
    },
  };
}
