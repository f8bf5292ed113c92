/**
 * The life-cycle contract every in-process service (cache proxy, load
 * balancer, DHT responder) follows, after js-libp2p's `Startable`
 * (STYLE.md §6): the daemon starts it when a policy takes a server over and
 * stops it on release or SIGTERM. `stop()` after `stop()` is harmless.
 */
export interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
}
