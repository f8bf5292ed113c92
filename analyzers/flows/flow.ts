/**
 * The state of one flow: who is client and server, which analyzer (or
 * prober) looks at it, per-direction reassembly, and its place in the LRU
 * list. Kept small (design target: 100,000 concurrent flows well under
 * 300 MB): no buffers until out-of-order data or probing needs them, the
 * `FlowKey` object built only when an analyzer is attached.
 */
import type {
  AnalyzerRegistration,
  DatagramAnalyzer,
  Direction,
  FlowKey,
  StreamAnalyzer,
} from '../analyzer.js';
import type { V4Tuple } from './flow-index.js';
import type { LruNode } from './lru.js';
import type { Prober } from './probe.js';
import type { Reassembler } from './reassembler.js';

/** probing: offering payload to probes; analyzing: an analyzer is attached; ignored: only tracked until it ends. */
export type FlowMode = 'probing' | 'analyzing' | 'ignored';

/** `finMask` bits: which side has sent a FIN. */
export const FIN_FROM_CLIENT = 1;
export const FIN_FROM_SERVER = 2;

export class Flow implements LruNode<Flow> {
  prev: Flow | null = null;
  next: Flow | null = null;
  mode: FlowMode = 'ignored';
  reg: AnalyzerRegistration | null = null;
  learnt: 'port' | 'probe' = 'port';
  stream: StreamAnalyzer | null = null;
  datagram: DatagramAnalyzer | null = null;
  prober: Prober | null = null;
  toServer: Reassembler | null = null;
  toClient: Reassembler | null = null;
  finMask = 0;
  /** Sequence number of the client's SYN when it was seen (-1 otherwise), to tell a retransmitted SYN from a new connection. */
  clientIsn = -1;
  closing = false;
  /** Numeric tuple of an IPv4 flow (FlowIndex), null for IPv6 (indexed by `key`). */
  v4: V4Tuple | null = null;
  /** Next flow in the same FlowIndex hash chain. */
  hashNext: Flow | null = null;

  constructor(
    /** Text key of an IPv6 flow (`flowKeyOf`); empty for IPv4 flows, which are found by `v4`. */
    readonly key: string,
    readonly transport: 'tcp' | 'udp',
    readonly clientIp: string,
    readonly clientPort: number,
    readonly serverIp: string,
    readonly serverPort: number,
    public lastTs: number,
  ) {}

  directionOf(srcIp: string, srcPort: number): Direction {
    return srcPort === this.clientPort && srcIp === this.clientIp ? 'toServer' : 'toClient';
  }

  flowKey(): FlowKey {
    return {
      transport: this.transport,
      client: { ip: this.clientIp, port: this.clientPort },
      server: { ip: this.serverIp, port: this.serverPort },
    };
  }
}

/** Direction-normalised 5-tuple key: the lower (ip, port) end first, so both directions find the same flow. */
export function flowKeyOf(transport: 'tcp' | 'udp', srcIp: string, srcPort: number, dstIp: string, dstPort: number): string {
  const srcFirst = srcIp < dstIp || (srcIp === dstIp && srcPort <= dstPort);
  const t = transport === 'tcp' ? 'T' : 'U';
  return srcFirst ? `${t}${srcIp} ${srcPort} ${dstIp} ${dstPort}` : `${t}${dstIp} ${dstPort} ${srcIp} ${srcPort}`;
}

/**
 * How likely a port is the server side when neither end is a known server
 * and no SYN was seen: well-known ports, then registered ports, then the
 * ephemeral range (32768+ on Linux, 49152+ per RFC 6335) that clients use.
 */
export function serverPortScore(port: number): number {
  if (port < 1024) return 2;
  if (port < 32768) return 1;
  return 0;
}
