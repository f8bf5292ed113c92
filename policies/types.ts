/**
 * The policy as the daemon uses it: fully typed, defaults filled, durations in
 * milliseconds, sizes in bytes, addresses parsed. Produced only by `loadPolicy`
 * from a file that passed the schema (schema.ts) and the cross-field checks.
 */
import type { Address } from './address.js';

export const PROTOCOL_NAMES = ['opennap', 'dht', 'grid'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

export const METRIC_NAMES = ['response-time', 'query-rate', 'both'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export const ACTION_TYPES = ['cache-proxy', 'load-balance'] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export const RELEASE_MODES = ['drain', 'reset'] as const;
/** `drain`: redirected connections stay on the service until they end; `reset`: their conntrack entries are deleted. */
export type ReleaseMode = (typeof RELEASE_MODES)[number];

export interface WatchEntry {
  /** A host, a host:port or a network; `port` is the entry's port whichever way it was written. */
  address: Address;
  port?: number;
  protocol: ProtocolName;
}

export interface ProtocolSettings {
  enabled: boolean;
  /** Server ports the analyzer is attached to without probing (TCP for opennap/grid, UDP for dht). */
  ports: number[];
}

export interface Thresholds {
  responseTimeMs?: number;
  /** Queries per second. */
  queryRate?: number;
}

/** Which servers a rule applies to. Empty lists mean "any": the default is every watched server. */
export interface ServerMatch {
  addresses: Address[];
  ports: number[];
  protocols: ProtocolName[];
}

/** Which clients a rule redirects. */
export interface ClientMatch {
  /** Ingress interfaces; empty = any interface except the one that leads to the server (those never cross us). */
  interfaces: string[];
  /** Client networks; empty = any. */
  addresses: Address[];
  /** Client networks never redirected, even when they match the lists above. */
  except: Address[];
}

export interface RuleAction {
  type: ActionType;
  /** Local address the DNAT sends to; port 0 = pick a free port at start. */
  listen: Address & { port: number };
  /** load-balance only: the servers to spread load over; empty = other watched servers of the same protocol. */
  backends: Array<Address & { port: number }>;
  cacheTtlMs: number;
  cacheEntries: number;
  cacheBytes: number;
  onRelease: ReleaseMode;
  upstreamTimeoutMs: number;
}

export interface Rule {
  name: string;
  servers: ServerMatch;
  metric: MetricName;
  high: Thresholds;
  low: Thresholds;
  holdBeforeActMs: number;
  holdBeforeReleaseMs: number;
  cooldownMs: number;
  clients: ClientMatch;
  action: RuleAction;
}

export type StatusListen = { kind: 'tcp'; address: Address & { port: number } } | { kind: 'unix'; path: string };

export interface Policy {
  /** The file the policy came from (for messages). */
  source: string;
  /** Interfaces to capture on; ['any'] = all. */
  interfaces: string[];
  capture: { snaplen: number; bufferBytes: number };
  watch: WatchEntry[];
  /** Self-study: probe flows on ports nobody named to find servers of enabled protocols. */
  learn: boolean;
  protocols: Record<ProtocolName, ProtocolSettings>;
  metrics: { windowMs: number; queriesPerSample: number; tickMs: number };
  rules: Rule[];
  /** Decide and report, but install no iptables rule and touch no conntrack entry. */
  dryRun: boolean;
  status: { listen: StatusListen };
  /** `writer`: SQLite writes on a worker thread (off the capture thread; a second core pays) or inline. */
  database: { path: string; retentionMs: number; writer: 'thread' | 'inline' };
}
