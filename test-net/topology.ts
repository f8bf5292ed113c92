/**
 * Test-bed topologies as plain data, their validation and their address plan.
 *
 * Model (deliberately simple): every subnet is one Ethernet segment, a Linux
 * bridge `br0` in its own "switch" namespace. A link attaches one host to one
 * subnet with one veth pair: the host end (e.g. `eth0`, or `eth-a` in a router)
 * lives in the host's namespace, the switch end (`p<N>`) in the switch's. A
 * plain host has exactly one link; a router has one link per subnet it routes
 * and is the default gateway of the hosts on those subnets (at most one router
 * per subnet, so no routing protocol or static routes are needed).
 *
 * Addresses are IPv4 inside 10.200.0.0 - 10.255.255.255, a range we only ever
 * use inside our own namespaces. Everything here is pure: no I/O, no clock.
 */
import type { TopologyIssue } from './errors.js';

export type HostKind = 'host' | 'router';

export interface HostSpec {
  readonly name: string;
  readonly kind: HostKind;
}

export interface SubnetSpec {
  readonly name: string;
  /** Network in CIDR form, e.g. `10.201.1.0/24`; host bits must be zero. */
  readonly cidr: string;
}

export interface LinkSpec {
  readonly host: string;
  readonly subnet: string;
  /** Host address on the subnet; omitted = routers get the first usable address, hosts the next free from .10. */
  readonly address?: string;
  /** Interface name in the host's namespace; omitted = `eth0` for hosts, `eth-<subnet>` for routers. */
  readonly ifname?: string;
}

export interface TopologySpec {
  readonly name: string;
  readonly hosts: readonly HostSpec[];
  readonly subnets: readonly SubnetSpec[];
  readonly links: readonly LinkSpec[];
}

export interface ResolvedInterface {
  readonly host: string;
  readonly subnet: string;
  readonly ifname: string;
  readonly address: string;
  readonly prefixLength: number;
  /** The veth end in the subnet's switch namespace, enslaved to its bridge. */
  readonly switchPort: string;
}

export interface ResolvedHost {
  readonly name: string;
  readonly kind: HostKind;
  readonly ns: string;
  readonly interfaces: readonly ResolvedInterface[];
  /** Default gateway (the subnet's router) for plain hosts; null for routers and router-less subnets. */
  readonly gateway: string | null;
}

export interface ResolvedSubnet {
  readonly name: string;
  readonly cidr: string;
  readonly prefixLength: number;
  readonly switchNs: string;
  readonly bridge: string;
  /** The router attached to this subnet, if any, and its address there. */
  readonly router: string | null;
  readonly gateway: string | null;
}

export interface ResolvedTopology {
  readonly name: string;
  readonly prefix: string;
  readonly hosts: readonly ResolvedHost[];
  readonly subnets: readonly ResolvedSubnet[];
  /** Every namespace the testbed creates: hosts first, then switches. */
  readonly namespaces: readonly string[];
}

export type ResolveResult =
  | { readonly kind: 'ok'; readonly topology: ResolvedTopology }
  | { readonly kind: 'error'; readonly issues: readonly TopologyIssue[] };

/** Linux IFNAMSIZ is 16 including the NUL: an interface name has at most 15 characters. */
export const MAX_IFNAME_LENGTH = 15;
/** Host names become namespace names and process titles; short keeps `ip netns list` readable. */
export const MAX_HOST_NAME_LENGTH = 24;
/** Bring-up spawns a few processes per namespace; this keeps a testbed to seconds and the 2-core CI sane. */
export const MAX_HOSTS = 64;
/** One switch namespace per subnet; subnet names also end up inside router interface names (`eth-<subnet>`). */
export const MAX_SUBNETS = 16;
/** `eth-` + subnet name must fit in MAX_IFNAME_LENGTH. */
export const MAX_SUBNET_NAME_LENGTH = 8;
/** Only 10.200.0.0 - 10.255.255.255: private space we reserve for namespaces made by the test bed. */
export const ALLOWED_SECOND_OCTET_MIN = 200;
export const ALLOWED_SECOND_OCTET_MAX = 255;
/** /16 keeps a subnet inside one 10.2xx block; /29 still leaves 6 usable addresses. */
export const MIN_PREFIX_LENGTH = 16;
export const MAX_PREFIX_LENGTH = 29;
/** Hosts without an explicit address are numbered from network + 10, leaving low addresses to routers. */
export const AUTO_HOST_OFFSET = 10;
/** The bridge in every switch namespace. */
export const BRIDGE_NAME = 'br0';
/** Namespace-name infix of switch namespaces; host names may not start with it. */
export const SWITCH_INFIX = 'sw-';

/** `ar` + base-36 pid + random base-36: lowercase, starts with a letter, short enough for any name we derive. */
export const PREFIX_PATTERN = /^[a-z][a-z0-9]{2,15}$/;
const TOPOLOGY_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/;
const HOST_NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const SUBNET_NAME_PATTERN = /^[a-z0-9]+$/;
/** No dots (they break /proc/sys paths), no slashes, no spaces: names go into sysctl paths and ip batch lines. */
const IFNAME_PATTERN = /^[a-z][a-z0-9-]*$/;

// ---------------------------------------------------------------- IPv4 math

/** Parses a strict dotted quad (no leading zeros, no blanks) to an unsigned 32-bit number. */
export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

export interface Ipv4Network {
  readonly network: number;
  readonly prefixLength: number;
  /** Number of addresses in the network, including network and broadcast. */
  readonly size: number;
}

/** Parses `a.b.c.d/len`; `null` when malformed or when host bits are set. */
export function parseCidr(text: string): Ipv4Network | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const network = parseIpv4(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (network === null || !/^(?:[0-9]|[12][0-9]|3[0-2])$/.test(lenText)) return null;
  const prefixLength = Number(lenText);
  const size = 2 ** (32 - prefixLength);
  if (network % size !== 0) return null;
  return { network, prefixLength, size };
}

/** Usable host address: inside the network, neither the network nor the broadcast address. */
export function isUsableAddress(net: Ipv4Network, address: number): boolean {
  return address > net.network && address < net.network + net.size - 1;
}

function overlaps(a: Ipv4Network, b: Ipv4Network): boolean {
  return a.network < b.network + b.size && b.network < a.network + a.size;
}

// ---------------------------------------------------------------- prefixes and names

/** Why a prefix is unacceptable, or null when it is fine. */
export function prefixProblem(prefix: string): string | null {
  return PREFIX_PATTERN.test(prefix) ? null : `must match ${String(PREFIX_PATTERN)}`;
}

/**
 * A per-run prefix `ar<pid base 36><4 random base-36 chars>`. The pid makes
 * concurrent runs differ, the random part makes pid reuse harmless. `random`
 * is injected (Math.random in production) to keep this pure.
 */
export function makePrefix(pid: number, random: () => number): string {
  let tail = '';
  for (let i = 0; i < 4; i++) tail += Math.floor(random() * 36).toString(36).slice(-1);
  return `ar${Math.max(0, Math.floor(pid)).toString(36)}${tail}`;
}

export function hostNamespace(prefix: string, host: string): string {
  return `${prefix}-${host}`;
}

export function switchNamespace(prefix: string, subnet: string): string {
  return `${prefix}-${SWITCH_INFIX}${subnet}`;
}

// ---------------------------------------------------------------- validation + resolution

interface Draft {
  readonly linkIndex: number;
  readonly host: HostSpec;
  readonly subnet: SubnetSpec;
  readonly net: Ipv4Network;
  readonly ifname: string;
  address: number | null;
}

/**
 * Validates a topology and computes its address plan and names for `prefix`.
 * Collects every issue rather than stopping at the first, so a bad file is
 * fixed in one go.
 */
export function resolveTopology(spec: TopologySpec, prefix: string): ResolveResult {
  const issues: TopologyIssue[] = [];
  const issue = (code: string, path: string, message: string): void => {
    issues.push({ code, path, message });
  };

  const badPrefix = prefixProblem(prefix);
  if (badPrefix !== null) issue('topology.bad_prefix', 'prefix', badPrefix);
  if (!TOPOLOGY_NAME_PATTERN.test(spec.name)) issue('topology.bad_name', 'name', `must match ${String(TOPOLOGY_NAME_PATTERN)}`);
  if (spec.hosts.length === 0) issue('topology.no_hosts', 'hosts', 'a topology needs at least one host');
  if (spec.hosts.length > MAX_HOSTS) issue('topology.too_many_hosts', 'hosts', `at most ${MAX_HOSTS} hosts`);
  if (spec.subnets.length > MAX_SUBNETS) issue('topology.too_many_subnets', 'subnets', `at most ${MAX_SUBNETS} subnets`);

  const hosts = new Map<string, HostSpec>();
  spec.hosts.forEach((h, i) => {
    const path = `hosts[${i}]`;
    if (!HOST_NAME_PATTERN.test(h.name) || h.name.length > MAX_HOST_NAME_LENGTH) {
      issue('host.bad_name', `${path}.name`, `"${h.name}": lowercase letters, digits and inner dashes, at most ${MAX_HOST_NAME_LENGTH} characters`);
    } else if (h.name.startsWith(SWITCH_INFIX)) {
      issue('host.reserved_name', `${path}.name`, `"${h.name}": names starting with "${SWITCH_INFIX}" are reserved for switches`);
    }
    if (h.kind !== 'host' && h.kind !== 'router') issue('host.bad_kind', `${path}.kind`, `"${String(h.kind)}": must be "host" or "router"`);
    if (hosts.has(h.name)) issue('host.duplicate', `${path}.name`, `"${h.name}" is defined twice`);
    else hosts.set(h.name, h);
  });

  const subnets = new Map<string, { spec: SubnetSpec; net: Ipv4Network }>();
  spec.subnets.forEach((s, i) => {
    const path = `subnets[${i}]`;
    if (!SUBNET_NAME_PATTERN.test(s.name) || s.name.length > MAX_SUBNET_NAME_LENGTH) {
      issue('subnet.bad_name', `${path}.name`, `"${s.name}": lowercase letters and digits, at most ${MAX_SUBNET_NAME_LENGTH} characters`);
    }
    const net = parseCidr(s.cidr);
    if (net === null) {
      issue('subnet.bad_cidr', `${path}.cidr`, `"${s.cidr}": not a network in a.b.c.d/len form with zero host bits`);
      return;
    }
    const first = net.network >>> 24;
    const second = (net.network >>> 16) & 0xff;
    if (first !== 10 || second < ALLOWED_SECOND_OCTET_MIN || second > ALLOWED_SECOND_OCTET_MAX) {
      issue('subnet.outside_range', `${path}.cidr`, `"${s.cidr}": must lie inside 10.${ALLOWED_SECOND_OCTET_MIN}.0.0 - 10.${ALLOWED_SECOND_OCTET_MAX}.255.255`);
    }
    if (net.prefixLength < MIN_PREFIX_LENGTH || net.prefixLength > MAX_PREFIX_LENGTH) {
      issue('subnet.bad_prefix_length', `${path}.cidr`, `"${s.cidr}": prefix length must be ${MIN_PREFIX_LENGTH}..${MAX_PREFIX_LENGTH}`);
    }
    for (const other of subnets.values()) {
      if (overlaps(net, other.net)) issue('subnet.overlap', `${path}.cidr`, `"${s.cidr}" overlaps "${other.spec.cidr}" (${other.spec.name})`);
    }
    if (subnets.has(s.name)) issue('subnet.duplicate', `${path}.name`, `"${s.name}" is defined twice`);
    else subnets.set(s.name, { spec: s, net });
  });

  // First pass: check references and names, collect explicit addresses.
  const drafts: Draft[] = [];
  const ifnamesByHost = new Map<string, Set<string>>();
  const attachments = new Set<string>();
  const taken = new Map<string, Map<number, string>>(); // subnet -> address -> path
  spec.links.forEach((l, i) => {
    const path = `links[${i}]`;
    const host = hosts.get(l.host);
    const subnet = subnets.get(l.subnet);
    if (host === undefined) issue('link.unknown_host', `${path}.host`, `"${l.host}" is not a host of this topology`);
    if (subnet === undefined) issue('link.unknown_subnet', `${path}.subnet`, `"${l.subnet}" is not a subnet of this topology`);
    if (host === undefined || subnet === undefined) return;

    const key = `${l.host}\u0000${l.subnet}`;
    if (attachments.has(key)) issue('link.duplicate_attachment', path, `"${l.host}" is attached to "${l.subnet}" twice`);
    attachments.add(key);

    const ifname = l.ifname ?? (host.kind === 'router' ? `eth-${l.subnet}` : 'eth0');
    if (!IFNAME_PATTERN.test(ifname) || ifname.length > MAX_IFNAME_LENGTH) {
      issue('link.bad_ifname', `${path}.ifname`, `"${ifname}": lowercase letters, digits and dashes, at most ${MAX_IFNAME_LENGTH} characters`);
    }
    const names = ifnamesByHost.get(l.host) ?? new Set<string>();
    if (names.has(ifname) || ifname === 'lo') issue('link.duplicate_ifname', `${path}.ifname`, `"${l.host}" already has an interface "${ifname}"`);
    names.add(ifname);
    ifnamesByHost.set(l.host, names);

    let address: number | null = null;
    if (l.address !== undefined) {
      address = parseIpv4(l.address);
      if (address === null) {
        issue('link.bad_address', `${path}.address`, `"${l.address}": not a dotted-quad IPv4 address`);
      } else if (!isUsableAddress(subnet.net, address)) {
        issue('link.address_outside_subnet', `${path}.address`, `"${l.address}" is not a usable address of ${subnet.spec.cidr}`);
      } else {
        const used = taken.get(l.subnet) ?? new Map<number, string>();
        const other = used.get(address);
        if (other !== undefined) issue('link.duplicate_address', `${path}.address`, `"${l.address}" is already used by ${other}`);
        used.set(address, path);
        taken.set(l.subnet, used);
      }
    }
    drafts.push({ linkIndex: i, host, subnet: subnet.spec, net: subnet.net, ifname, address });
  });

  for (const [i, h] of spec.hosts.entries()) {
    const count = drafts.filter((d) => d.host.name === h.name).length;
    if (h.kind === 'host' && count !== 1) issue('host.link_count', `hosts[${i}]`, `host "${h.name}" needs exactly one link, has ${count}`);
    if (h.kind === 'router' && count === 0) issue('host.link_count', `hosts[${i}]`, `router "${h.name}" has no links`);
  }
  const routerOf = new Map<string, string>();
  for (const d of drafts) {
    if (d.host.kind !== 'router') continue;
    const other = routerOf.get(d.subnet.name);
    if (other !== undefined && other !== d.host.name) {
      issue('subnet.multiple_routers', `links[${d.linkIndex}]`, `subnet "${d.subnet.name}" already has router "${other}"`);
    } else routerOf.set(d.subnet.name, d.host.name);
  }
  for (const [i, s] of spec.subnets.entries()) {
    if (!drafts.some((d) => d.subnet.name === s.name)) issue('subnet.unused', `subnets[${i}]`, `subnet "${s.name}" has no links`);
  }
  if (issues.length > 0) return { kind: 'error', issues };

  // Second pass: automatic addresses, routers first so they get the low ones.
  const ordered = [...drafts.filter((d) => d.host.kind === 'router'), ...drafts.filter((d) => d.host.kind === 'host')];
  for (const d of ordered) {
    if (d.address !== null) continue;
    const used = taken.get(d.subnet.name) ?? new Map<number, string>();
    const start = d.net.network + (d.host.kind === 'router' ? 1 : Math.min(AUTO_HOST_OFFSET, d.net.size - 2));
    let candidate: number | null = null;
    for (let a = start; a < d.net.network + d.net.size - 1; a++) {
      if (!used.has(a)) {
        candidate = a;
        break;
      }
    }
    if (candidate === null) {
      issue('subnet.address_exhausted', `links[${d.linkIndex}].address`, `no free address left in ${d.subnet.cidr}`);
      continue;
    }
    used.set(candidate, `links[${d.linkIndex}]`);
    taken.set(d.subnet.name, used);
    d.address = candidate;
  }
  if (issues.length > 0) return { kind: 'error', issues };

  // Switch ports are numbered per subnet in link order: stable across runs.
  const portIndex = new Map<number, string>();
  for (const s of spec.subnets) {
    drafts.filter((d) => d.subnet.name === s.name).forEach((d, n) => portIndex.set(d.linkIndex, `p${n}`));
  }
  const ifaceOf = (d: Draft): ResolvedInterface => ({
    host: d.host.name,
    subnet: d.subnet.name,
    ifname: d.ifname,
    address: formatIpv4(d.address ?? 0),
    prefixLength: d.net.prefixLength,
    switchPort: portIndex.get(d.linkIndex) ?? `p${d.linkIndex}`,
  });
  const gatewayOf = (subnet: string): string | null => {
    const router = routerOf.get(subnet);
    const d = drafts.find((x) => x.subnet.name === subnet && x.host.name === router);
    return d === undefined || d.address === null ? null : formatIpv4(d.address);
  };

  const resolvedHosts: ResolvedHost[] = spec.hosts.map((h) => {
    const mine = drafts.filter((d) => d.host.name === h.name);
    return {
      name: h.name,
      kind: h.kind,
      ns: hostNamespace(prefix, h.name),
      interfaces: mine.map(ifaceOf),
      gateway: h.kind === 'host' && mine[0] !== undefined ? gatewayOf(mine[0].subnet.name) : null,
    };
  });
  const resolvedSubnets: ResolvedSubnet[] = spec.subnets.map((s) => {
    const net = subnets.get(s.name)?.net;
    return {
      name: s.name,
      cidr: s.cidr,
      prefixLength: net?.prefixLength ?? 0,
      switchNs: switchNamespace(prefix, s.name),
      bridge: BRIDGE_NAME,
      router: routerOf.get(s.name) ?? null,
      gateway: gatewayOf(s.name),
    };
  });
  return {
    kind: 'ok',
    topology: {
      name: spec.name,
      prefix,
      hosts: resolvedHosts,
      subnets: resolvedSubnets,
      namespaces: [...resolvedHosts.map((h) => h.ns), ...resolvedSubnets.map((s) => s.switchNs)],
    },
  };
}
