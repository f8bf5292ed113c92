/**
 * What the manager needs of an active service (cache proxy, load balancer):
 * where the redirect must send clients, its counters, its health, and how to
 * hand clients back. The daemon adapts each service to this shape.
 */
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { Rule } from '../../policies/index.js';
import type { QueryDoneEvent } from '../../analyzers/events.js';
import type { TrackedServer } from './server-registry.js';

export interface ServiceHandle {
  readonly id: string;
  readonly type: Rule['action']['type'];
  readonly origin: Endpoint;
  /** The address the DNAT sends redirected clients to. */
  readonly target: Endpoint;
  readonly startedAt: number;
  /** Searches answered by the service itself (not forwarded to the origin): the load it takes off the origin. */
  absorbedQueries(): number;
  stats(): Record<string, number>;
  /** Deposits answers the analyzer saw for the origin (warm start; newer answers replace older). */
  warm(answers: QueryDoneEvent[]): number;
  healthy(): boolean;
  /** Registers the callback run when the service finds the origin unreachable. */
  onUnhealthy(cb: (reason: string) => void): void;
  /** Client sessions still open on the service. */
  sessions(): number;
  /** Release by reset: every client session is reset so clients reconnect (to the origin, once the rule is gone). */
  resetSessions(): void;
  /** Release by drain: accept nothing new, keep sessions until they end. */
  drain(): void;
  stop(): Promise<void>;
}

export interface ServiceFactory {
  start(server: TrackedServer, rule: Rule): Promise<ServiceHandle>;
}
