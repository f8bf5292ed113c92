/**
 * The analyzer pipeline in one object: captured frame → packet decode →
 * flow table → analyzers → events. The capture loop (daemon/capture) calls
 * `handleFrame` per frame and `expire` on a timer with the newest capture
 * timestamp; it knows nothing of any protocol.
 */
import type { AnalyzerRegistration } from '../analyzer.js';
import { Counters } from '../counters.js';
import { ServerSpecError } from '../errors.js';
import type { AnalyzerEvent } from '../events.js';
import { decodeFrameBytes } from '../packet/decode.js';
import { emptyDecodedPacket } from '../packet/transport.js';
import { parseIPv4, parseIPv6 } from '../packet/ip-parse.js';
import { formatIPv6 } from '../packet/ip-text.js';
import type { AnalyzerRegistry } from '../registry.js';
import type { FlowTableStats } from './flow-table.js';
import { FlowTable } from './flow-table.js';
import type { FlowLimits } from './limits.js';

/** A server endpoint named by policy: `protocol` on `port`, on one host (`ip`) or on any. */
export interface ServerSpec {
  transport: 'tcp' | 'udp';
  port: number;
  protocol: string;
  ip?: string;
}

export interface PipelineOptions {
  registry: AnalyzerRegistry;
  /** Server endpoints named by policy, in addition to the registrations' default ports. */
  servers?: readonly ServerSpec[];
  /** Whether registrations' `defaultPorts` count as server ports (default true). */
  useDefaultPorts?: boolean;
  onEvent(event: AnalyzerEvent): void;
  limits?: Partial<FlowLimits>;
  counters?: Counters;
  /** Self-study: probe flows on ports nobody named (default true). */
  probe?: boolean;
  /** See `AnalyzerContext.wantsResults`. */
  wantsResults?: (protocol: string, server: { ip: string; port: number }, keywords: readonly string[]) => boolean;
}

export interface PipelineStats extends FlowTableStats {
  frames: number;
  /** Frames that decoded to a TCP segment or UDP datagram. */
  packets: number;
}

export interface Pipeline {
  readonly counters: Counters;
  readonly flows: FlowTable;
  handleFrame(linkType: number, frame: Buffer, ts: number): void;
  /** handleFrame of the frame at `bytes[start, end)` (a record in a file's read buffer: no view made for it). */
  handleFrameBytes(linkType: number, bytes: Buffer, start: number, end: number, ts: number): void;
  /**
   * New server entries and self-study setting (a policy reload), for flows that start from now on;
   * tracked flows keep their analyzer unless its protocol was switched off in the registry.
   */
  configure(settings: { servers: readonly ServerSpec[]; probe: boolean }): void;
  expire(nowTs: number): void;
  closeAll(ts: number): void;
  stats(): PipelineStats;
}

export function createPipeline(opts: PipelineOptions): Pipeline {
  const counters = opts.counters ?? new Counters();
  const registry = opts.registry;
  const isServerPort = serverLookup(registry, opts.servers ?? [], opts.useDefaultPorts ?? true);
  const flows = new FlowTable({ registry, isServerPort, onEvent: opts.onEvent, counters, limits: opts.limits, probe: opts.probe, ...(opts.wantsResults ? { wantsResults: opts.wantsResults } : {}) });
  let frames = 0;
  let packets = 0;
  // Every packet is decoded into this one object: the flow table reads it and keeps nothing of it.
  const scratch = emptyDecodedPacket();
  const handleFrameBytes = (linkType: number, bytes: Buffer, start: number, end: number, ts: number): void => {
    frames++;
    const pkt = decodeFrameBytes(linkType, bytes, start, end, ts, counters, scratch);
    if (pkt === null) return;
    packets++;
    flows.handlePacket(pkt);
  };
  return {
    counters,
    flows,
    handleFrame: (linkType, frame, ts) => handleFrameBytes(linkType, frame, 0, frame.length, ts),
    handleFrameBytes,
    configure(settings) {
      // Built before anything changes: a bad entry throws and leaves the running lookup as it was.
      const lookup = serverLookup(registry, settings.servers, opts.useDefaultPorts ?? true);
      flows.configure({ isServerPort: lookup, probe: settings.probe });
    },
    expire: (nowTs) => flows.expire(nowTs),
    closeAll: (ts) => flows.closeAll(ts),
    stats: () => ({ ...flows.stats(), frames, packets }),
  };
}

/** Builds `isServerPort` from policy entries (host-specific first, then any-host) and default ports. */
export function serverLookup(
  registry: AnalyzerRegistry,
  servers: readonly ServerSpec[],
  useDefaultPorts: boolean,
): (transport: 'tcp' | 'udp', ip: string, port: number) => AnalyzerRegistration | undefined {
  const exact = new Map<string, string>();
  const anyHost = new Map<string, string>();
  for (const s of servers) {
    const reg = registry.require(s.protocol);
    if (reg.transport !== s.transport) {
      throw new ServerSpecError(`server ${s.ip ?? '*'}:${s.port}: ${s.protocol} runs over ${reg.transport}, not ${s.transport}`);
    }
    if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) {
      throw new ServerSpecError(`server ${s.ip ?? '*'}:${s.port}: port must be 1..65535`);
    }
    if (s.ip !== undefined) exact.set(`${s.transport} ${s.port} ${canonicalIp(s.ip)}`, s.protocol);
    else anyHost.set(`${s.transport} ${s.port}`, s.protocol);
  }
  return (transport, ip, port) => {
    const name = exact.size > 0 ? exact.get(`${transport} ${port} ${ip}`) : undefined;
    const any = name ?? (anyHost.size > 0 ? anyHost.get(`${transport} ${port}`) : undefined);
    if (any !== undefined) return registry.get(any);
    return useDefaultPorts ? registry.byPort(transport, port) : undefined;
  };
}

/** The text the decoder produces for `ip` (dotted IPv4, RFC 5952 IPv6), so policy text matches packets. */
function canonicalIp(ip: string): string {
  if (parseIPv4(ip) !== undefined) return ip.split('.').map(Number).join('.');
  const v6 = parseIPv6(ip);
  if (v6 === undefined) throw new ServerSpecError(`server address "${ip}" is not an IPv4 or IPv6 address`);
  return formatIPv6(v6);
}
