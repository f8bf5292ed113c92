/**
 * Builds the libpcap filter expression (pcap-filter(7)) for what the daemon
 * watches: known server ports, specific servers, and with `learn` (the paper's
 * self-study of unknown ports) every TCP/UDP packet that carries payload or a
 * TCP connection event. IPv4 and IPv6; 802.1Q-tagged frames are matched by
 * repeating the expression after `vlan` (which shifts all later offsets by
 * the tag, hence `(E) or (vlan and (E))`). Pure: no I/O.
 */
import { isIP } from 'node:net';
import { CaptureConfigError } from './errors.js';

export type Transport = 'tcp' | 'udp';

export interface BpfFilterSpec {
  /** Single servers: only their address and port is captured. */
  servers: readonly { ip: string; port: number; transport: Transport }[];
  /** Ports captured whatever the address. */
  ports: readonly { port: number; transport: Transport }[];
  /** Capture all TCP/UDP with payload (and TCP SYN/FIN/RST) to detect protocols on unknown ports. */
  learn: boolean;
  /** Also match 802.1Q-tagged frames (default true). */
  vlan?: boolean;
}

/**
 * Server terms beyond this collapse to their port terms (a superset: the flow
 * layer still sorts by address). Each host+port term costs ~20 BPF
 * instructions over IPv4 and IPv6, doubled for VLAN; the kernel caps a
 * program at 4096 (BPF_MAXINSNS).
 */
export const MAX_SERVER_TERMS = 48;
/** Port terms (after merging adjacent ports into ranges) beyond this collapse to the whole transport. */
export const MAX_PORT_TERMS = 48;

/** How much the filter was widened to stay within the bounds above. */
export type FilterBroadening = 'none' | 'servers_to_ports' | 'ports_to_transport';

export interface BpfFilterPlan {
  expression: string;
  broadened: FilterBroadening;
}

/**
 * TCP over IPv4 with payload, or SYN/FIN/RST (the flow layer needs connection
 * starts and ends), or a non-first fragment (its payload cannot be inspected).
 * Payload length = IP total length - IP header - TCP header.
 */
const LEARN_TCP4 =
  'ip and tcp and ((ip[6:2] & 0x1fff) != 0 or (tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst)) != 0' +
  ' or (ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2)) != 0)';
/**
 * The same for IPv6, whose `tcp[]` indexing libpcap does not support: with
 * TCP right after the fixed 40-byte header, flags are at ip6[53] and the
 * data offset at ip6[52]; with extension headers in between we keep it all.
 */
const LEARN_TCP6 =
  'ip6 and tcp and (ip6[6] != 6 or (ip6[53] & 0x07) != 0' + ' or (ip6[4:2] - ((ip6[52] & 0xf0) >> 2)) != 0)';
/** A UDP datagram without payload is too rare to be worth the instructions to exclude it. */
const LEARN_UDP = 'udp';

function checkPort(port: number, where: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CaptureConfigError(`${where}: port ${port} outside 1..65535`);
}

function checkTransport(t: string, where: string): asserts t is Transport {
  if (t !== 'tcp' && t !== 'udp') throw new CaptureConfigError(`${where}: transport "${t}" is neither tcp nor udp`);
}

/** Sorted, merged port list → `tcp port 80`, `udp portrange 6881-6889`. */
function portTerms(transport: Transport, ports: readonly number[]): string[] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const out: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const lo = sorted[i] as number;
    let hi = lo;
    while (i + 1 < sorted.length && sorted[i + 1] === hi + 1) {
      hi++;
      i++;
    }
    out.push(lo === hi ? `${transport} port ${lo}` : `${transport} portrange ${lo}-${hi}`);
    i++;
  }
  return out;
}

/** Builds the filter and says whether it had to be widened. Throws CaptureConfigError on invalid input or an empty spec. */
export function planBpfFilter(spec: BpfFilterSpec): BpfFilterPlan {
  const ports: Record<Transport, number[]> = { tcp: [], udp: [] };
  for (const [i, p] of spec.ports.entries()) {
    checkTransport(p.transport, `ports[${i}]`);
    checkPort(p.port, `ports[${i}]`);
    ports[p.transport].push(p.port);
  }
  const covered = new Set(spec.ports.map((p) => `${p.transport}/${p.port}`));
  const servers = new Map<string, { ip: string; port: number; transport: Transport }>();
  for (const [i, s] of spec.servers.entries()) {
    checkTransport(s.transport, `servers[${i}]`);
    checkPort(s.port, `servers[${i}]`);
    if (isIP(s.ip) === 0) throw new CaptureConfigError(`servers[${i}]: "${s.ip}" is not an IPv4 or IPv6 address`);
    if (covered.has(`${s.transport}/${s.port}`)) continue;
    servers.set(`${s.transport}/${s.ip}/${s.port}`, s);
  }

  let broadened: FilterBroadening = 'none';
  let serverList = [...servers.values()];
  if (serverList.length > MAX_SERVER_TERMS) {
    broadened = 'servers_to_ports';
    for (const s of serverList) ports[s.transport].push(s.port);
    serverList = [];
  }
  const terms: string[] = [];
  for (const t of ['tcp', 'udp'] as const) {
    const pt = portTerms(t, ports[t]);
    if (pt.length > MAX_PORT_TERMS) {
      broadened = 'ports_to_transport';
      terms.push(t);
    } else {
      terms.push(...pt);
    }
  }
  for (const s of serverList) terms.push(`(host ${s.ip} and ${s.transport} port ${s.port})`);
  if (spec.learn) terms.push(`(${LEARN_TCP4})`, `(${LEARN_TCP6})`, LEARN_UDP);
  if (terms.length === 0) throw new CaptureConfigError('nothing to capture: no servers, no ports and learning off');

  const base = terms.join(' or ');
  const expression = spec.vlan === false ? base : `(${base}) or (vlan and (${base}))`;
  return { expression, broadened };
}

/** The filter expression for `spec` (see planBpfFilter). */
export function buildBpfFilter(spec: BpfFilterSpec): string {
  return planBpfFilter(spec).expression;
}
