/**
 * The analyzer interface every protocol analyzer implements, after Zeek's
 * analyzer life cycle (probe → DeliverStream → Undelivered → EndpointEOF):
 * the flow layer (analyzers/flows) hands each analyzer ordered bytes with
 * capture timestamps, tells it about holes, and about the end of the flow.
 * Analyzers are pure with respect to I/O: no clock, no sockets, no DB; they
 * report what they understood through `emit` and oddities through `count`.
 */
import type { AnalyzerEvent } from './events.js';

/** `toServer`: bytes sent by the flow's client (connection initiator); `toClient`: the reverse. */
export type Direction = 'toServer' | 'toClient';

export interface Endpoint {
  /** Dotted IPv4 or canonical (RFC 5952) IPv6 text. */
  ip: string;
  port: number;
}

export interface FlowKey {
  transport: 'tcp' | 'udp';
  /** The initiator (SYN sender); when the SYN was not seen, the side on the non-server port. */
  client: Endpoint;
  server: Endpoint;
}

/** What an analyzer may use: where it sits, a sink for events and a counter for named oddities. */
export interface AnalyzerContext {
  flow: FlowKey;
  /** How the server was learnt: its port is in the policy, or the probe recognised the protocol. */
  learnt: 'port' | 'probe';
  emit(event: AnalyzerEvent): void;
  /** Counts a named, stable snake_case event such as `opennap.length_mismatch`. */
  count(name: string, n?: number): void;
  /**
   * Whether the raw results answering a query with these keywords are wanted
   * (the cache proxy's warm start). Absent: yes. Lets an analyzer skip copying
   * results that are already known, which is most of its memory and copying.
   */
  wantsResults?(keywords: readonly string[]): boolean;
}

/** Analyzer of one TCP flow. Timestamps are capture times in milliseconds since the epoch (fractional). */
export interface StreamAnalyzer {
  onData(dir: Direction, bytes: Buffer, ts: number): void;
  /**
   * Optional: onData of `bytes[start, end)`, which the flow layer then calls instead, so it makes
   * no Buffer view per segment (the reassembler hands on spans of the capture buffer). It must do
   * exactly what onData of that view would (the compliance suite checks it).
   */
  onDataSpan?(dir: Direction, bytes: Buffer, start: number, end: number, ts: number): void;
  /** `length` bytes in direction `dir` were lost; parsing must resynchronise. */
  onGap(dir: Direction, length: number, ts: number): void;
  /** The flow ended (FIN/RST/idle/eviction). */
  onEnd(ts: number, reason: FlowEndReason): void;
  /** False once the analyzer decided the flow is not its protocol (a violation); the flow layer drops it. */
  readonly confirmed: boolean;
  readonly violated: boolean;
}

/** Analyzer of UDP datagrams of one (client, server) pair. */
export interface DatagramAnalyzer {
  onDatagram(dir: Direction, bytes: Buffer, ts: number): void;
  onEnd(ts: number, reason: FlowEndReason): void;
  readonly confirmed: boolean;
  readonly violated: boolean;
}

export type FlowEndReason = 'fin' | 'rst' | 'idle' | 'evicted' | 'shutdown';

/** Probe verdict on the first payload bytes of a flow on a port nobody named. */
export type ProbeVerdict = 'match' | 'no' | 'need-more';

interface RegistrationBase {
  /** Stable protocol name used in policies, DB rows and metrics, e.g. `opennap`. */
  name: string;
  defaultPorts: readonly number[];
  /** Looks at the first payload of a flow (either direction) and says whether it is this protocol. Pure. */
  probe(dir: Direction, bytes: Buffer): ProbeVerdict;
}

export interface StreamAnalyzerRegistration extends RegistrationBase {
  transport: 'tcp';
  create(ctx: AnalyzerContext): StreamAnalyzer;
}

export interface DatagramAnalyzerRegistration extends RegistrationBase {
  transport: 'udp';
  create(ctx: AnalyzerContext): DatagramAnalyzer;
}

export type AnalyzerRegistration = StreamAnalyzerRegistration | DatagramAnalyzerRegistration;
