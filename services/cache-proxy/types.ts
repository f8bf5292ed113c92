/**
 * The cache proxy's public shapes: its init object, the component that
 * gives an upstream connection the client's own source address, and the
 * stats snapshot. Seed 001 §5 (virtual cache proxy) and the services
 * contract of ARCHITECTURE.md.
 */

/** An IP address (dotted IPv4 or IPv6 text) and a TCP port. */
export interface HostPort {
  ip: string;
  port: number;
}

/** What `UpstreamSourceBinder.bind` hands back for one upstream connection. */
export interface UpstreamLease {
  /** Local address to connect from; the host's choice when absent. */
  localAddress?: string;
  /** Local port to connect from; an ephemeral one when absent. */
  localPort?: number;
  /** Called exactly once, when the upstream connection has closed (or could not be opened). */
  release(): void;
}

/**
 * Makes an upstream connection carry the client's own source address
 * (ARCHITECTURE.md invariant 4: servers keep seeing each client's address).
 * The daemon implements it with a per-connection SNAT rule matching the
 * local port it hands out; the proxy only connects from that port and
 * releases the lease when the upstream closes.
 */
export interface UpstreamSourceBinder {
  bind(client: HostPort): Promise<UpstreamLease>;
}

export interface CacheProxyInit {
  /** The origin server this proxy answers for. */
  origin: HostPort;
  /** Where to listen; port 0 picks a free one (see `address()`). */
  listen: { host: string; port: number };
  /** T of seed 001 §5.2: a cached result set older than this is ignored and removed. */
  cacheTtlMs: number;
  /** Cached result sets (one per query key) at most; least recently used evicted first. */
  maxCacheEntries: number;
  /** Bytes of cached results at most (frames plus per-result overhead); LRU eviction. */
  maxCacheBytes: number;
  /** A connect to the origin taking longer fails the session and marks the proxy unhealthy. */
  upstreamConnectTimeoutMs: number;
  upstreamSource: UpstreamSourceBinder;
  /** Clock for cache timestamps (TTL); `Date.now` by default. Injected by tests. */
  now?: () => number;
}

export interface CacheProxyStats {
  /** Client sessions open now. */
  sessions: number;
  /** Searches (200) received from clients. */
  searches: number;
  /** Searches whose key was in the cache and fresh. */
  hits: number;
  /** Searches whose key was absent or expired. */
  misses: number;
  /** Searches forwarded to the origin (step 3). */
  forwards: number;
  /** 201 lines sent from the local directory. */
  localResults: number;
  /** 201 lines sent from the cache. */
  cacheResults: number;
  cacheEntries: number;
  cacheBytes: number;
  /** Cache entries evicted by the entry or byte cap (LRU). */
  evictions: number;
  /** Cache entries removed because their TTL passed. */
  expired: number;
  /** Upstream sessions that could not be opened (bind, connect, timeout). */
  upstreamFailures: number;
  /** Search received → answer written, over the last LATENCY_RING_SIZE searches. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Searches answered by the proxy itself (valid or with 404). */
  searchesAnswered: number;
  /** Every drop, refusal and oddity by stable name, e.g. `cache_proxy.client_output_overflow`. */
  events: Record<string, number>;
}
