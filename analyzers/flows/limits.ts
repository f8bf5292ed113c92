/**
 * Bounds of the flow layer (ARCHITECTURE.md invariant 2: bounded under
 * floods and hostile input). Every bound has a default here with its reason;
 * a daemon may lower or raise them through `FlowLimits`.
 */
import { InvalidFlowLimitsError } from '../errors.js';

/** Concurrent flows tracked: 100,000 is the design target, with headroom; a flow costs well under 1 KB without buffered data. */
export const DEFAULT_MAX_FLOWS = 250_000;
/** Out-of-order bytes held per flow (both directions): a few receive windows of loss recovery at LAN speeds. */
export const DEFAULT_MAX_BUFFERED_PER_FLOW = 256 * 1024;
/** Out-of-order bytes held by all flows together: keeps a reordering flood far below the 300 MB RSS budget. */
export const DEFAULT_MAX_BUFFERED_TOTAL = 64 * 1024 * 1024;
/** Held segments per direction: caps per-segment overhead when an attacker sends many tiny out-of-order segments. */
export const DEFAULT_MAX_PENDING_SEGMENTS = 256;
/** TCP idle timeout (Zeek's tcp_inactivity_timeout): P2P directory sessions idle for minutes between searches. */
export const DEFAULT_TCP_IDLE_MS = 5 * 60_000;
/** UDP idle timeout (Zeek's udp_inactivity_timeout): a DHT exchange is over within seconds. */
export const DEFAULT_UDP_IDLE_MS = 60_000;
/** After both FINs, how long to wait for retransmissions that fill holes before reporting them as gaps. */
export const DEFAULT_CLOSING_MS = 5_000;
/** Payload bytes buffered per flow for protocol probing: every probe decides on the first message header. */
export const DEFAULT_PROBE_BYTES = 2048;
/** Datagrams per UDP flow offered to the probes before giving up. */
export const DEFAULT_PROBE_DATAGRAMS = 4;
/** Servers remembered from successful probes, so later flows to them skip probing; oldest forgotten first. */
export const DEFAULT_MAX_LEARNT_SERVERS = 10_000;

export interface FlowLimits {
  maxFlows: number;
  maxBufferedPerFlow: number;
  maxBufferedTotal: number;
  maxPendingSegments: number;
  tcpIdleMs: number;
  udpIdleMs: number;
  closingMs: number;
  probeBytes: number;
  probeDatagrams: number;
  maxLearntServers: number;
}

export const DEFAULT_FLOW_LIMITS: Readonly<FlowLimits> = Object.freeze({
  maxFlows: DEFAULT_MAX_FLOWS,
  maxBufferedPerFlow: DEFAULT_MAX_BUFFERED_PER_FLOW,
  maxBufferedTotal: DEFAULT_MAX_BUFFERED_TOTAL,
  maxPendingSegments: DEFAULT_MAX_PENDING_SEGMENTS,
  tcpIdleMs: DEFAULT_TCP_IDLE_MS,
  udpIdleMs: DEFAULT_UDP_IDLE_MS,
  closingMs: DEFAULT_CLOSING_MS,
  probeBytes: DEFAULT_PROBE_BYTES,
  probeDatagrams: DEFAULT_PROBE_DATAGRAMS,
  maxLearntServers: DEFAULT_MAX_LEARNT_SERVERS,
});

/** Defaults overlaid with `partial`; throws InvalidFlowLimitsError naming the bad field. */
export function resolveFlowLimits(partial: Partial<FlowLimits> = {}): FlowLimits {
  const limits: FlowLimits = { ...DEFAULT_FLOW_LIMITS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new InvalidFlowLimitsError(`flow limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  if (limits.maxBufferedPerFlow > limits.maxBufferedTotal) {
    throw new InvalidFlowLimitsError('maxBufferedPerFlow must not exceed maxBufferedTotal');
  }
  return limits;
}
