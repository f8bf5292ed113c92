/**
 * The upstream source binder that installs nothing: the upstream connection
 * leaves from the host's own address and an ephemeral port.
 */
import type { UpstreamSourceBinder } from './types.js';

/**
 * No SNAT rule: the origin then sees the router's (this host's) address for
 * every proxied client, not the client's own, so it is for running the proxy
 * on a host that is not a router, for tests and for the benchmark. In the
 * daemon the binder installs a per-connection SNAT rule instead.
 */
export const directSource: UpstreamSourceBinder = {
  bind: () => Promise.resolve({ release: () => undefined }),
};
