/**
 * The desired state the manager hands to the actuators (ARCHITECTURE.md,
 * "actuators: reconcile desired vs actual"). Plain data, no behaviour.
 */

export type L4Protocol = 'tcp' | 'udp';

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
}

/** Which clients a redirect moves. Empty/absent lists mean "any". */
export interface ClientSelector {
  /** Interfaces the clients' packets arrive on (iptables -i; a trailing "+" is a wildcard). */
  readonly inInterfaces?: readonly string[];
  /** Client source networks (CIDR or single address). */
  readonly sources?: readonly string[];
  /** Client networks never redirected, even when selected above. */
  readonly except?: readonly string[];
}

/** Move the selected clients' new connections to `server` over to `to`. */
export interface Redirect {
  /** Stable identity, e.g. "cache-proxy:10.0.1.2:8888"; it tags every rule. */
  readonly id: string;
  readonly server: Endpoint;
  readonly protocol: L4Protocol;
  readonly clients: ClientSelector;
  readonly to: Endpoint;
}

/**
 * The cache proxy opens each upstream connection from a known local port;
 * this rewrites its source to the client's address so the origin server
 * keeps seeing the client (invariant 4, transparent).
 */
export interface UpstreamSnat {
  readonly id: string;
  readonly localPort: number;
  readonly origin: Endpoint;
  readonly toSource: string;
}

export interface DesiredState {
  readonly redirects: readonly Redirect[];
  readonly snats: readonly UpstreamSnat[];
}

export const EMPTY_DESIRED_STATE: DesiredState = Object.freeze({ redirects: [], snats: [] });
