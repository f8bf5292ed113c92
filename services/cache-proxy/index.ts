/** The OpenNap cache proxy service (seed 001 §5): public entry points. */
export { CacheProxy } from './cache-proxy.js';
export { directSource } from './direct-source.js';
export type { CacheProxyInit, CacheProxyStats, HostPort, UpstreamLease, UpstreamSourceBinder } from './types.js';
export type { DepositOutcome } from './result-cache.js';
