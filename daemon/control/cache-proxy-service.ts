/**
 * Starts a cache proxy (services/cache-proxy) for an overloaded OpenNap
 * server and adapts it to the manager's ServiceHandle: warm-started from the
 * answers the analyzer saw, upstream connections carrying each client's own
 * address through per-connection SNAT, and a DNAT target on this router.
 */
import { CacheProxy } from '../../services/cache-proxy/index.js';
import type { Rule } from '../../policies/index.js';
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { DesiredStateStore } from './desired-state-store.js';
import type { ServiceFactory, ServiceHandle } from './service-handle.js';
import { endpointText } from './server-registry.js';
import type { ServerRegistry, TrackedServer } from './server-registry.js';
import { SnatSourceBinder } from './snat-source.js';
import { directSource } from '../../services/cache-proxy/direct-source.js';

export interface CacheProxyFactoryDeps {
  registry: ServerRegistry;
  store: DesiredStateStore;
  /** The IPv4 address the DNAT sends clients to when the rule listens on 0.0.0.0. */
  targetAddress(rule: Rule, server: TrackedServer): Promise<string>;
  /** Dry run: no SNAT rules (the proxy is started but never receives clients). */
  dryRun: boolean;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export class CacheProxyFactory implements ServiceFactory {
  constructor(private readonly deps: CacheProxyFactoryDeps) {}

  async start(server: TrackedServer, rule: Rule): Promise<ServiceHandle> {
    const id = `cache-proxy:${endpointText(server.endpoint)}`;
    const listenIp = rule.action.listen.ip;
    const upstreamSource = this.deps.dryRun ? directSource : new SnatSourceBinder(this.deps.store, server.endpoint, `snat:${endpointText(server.endpoint)}`);
    const proxy = new CacheProxy({
      origin: { ip: server.endpoint.ip, port: server.endpoint.port },
      listen: { host: listenIp, port: rule.action.listen.port },
      cacheTtlMs: rule.action.cacheTtlMs,
      maxCacheEntries: rule.action.cacheEntries,
      maxCacheBytes: rule.action.cacheBytes,
      upstreamConnectTimeoutMs: rule.action.upstreamTimeoutMs,
      upstreamSource,
    });
    const warmed = proxy.warm(this.deps.registry.warmAnswers(server.key));
    await proxy.start();
    const bound = proxy.address();
    const unspecified = listenIp === '0.0.0.0' || listenIp === '::';
    const target: Endpoint = { ip: unspecified ? await this.deps.targetAddress(rule, server) : listenIp, port: bound.port };
    this.deps.log('info', `${id}: listening on ${endpointText(target)}, cache warmed with ${warmed} answer(s)`);
    return adapt(proxy, id, server.endpoint, target);
  }
}

function adapt(proxy: CacheProxy, id: string, origin: Endpoint, target: Endpoint): ServiceHandle {
  const startedAt = Date.now();
  return {
    id,
    type: 'cache-proxy',
    origin,
    target,
    startedAt,
    absorbedQueries: () => {
      const s = proxy.stats();
      return Math.max(0, s.searches - s.forwards);
    },
    stats: () => {
      const { events, ...numbers } = proxy.stats();
      return { ...numbers, ...Object.fromEntries(Object.entries(events).map(([k, v]) => [k, v])) };
    },
    healthy: () => proxy.healthy,
    warm: (answers) => proxy.warm(answers),
    onUnhealthy: (cb) => {
      proxy.on('unhealthy', (err) => cb(err.message));
    },
    sessions: () => proxy.stats().sessions,
    resetSessions: () => void proxy.resetSessions(),
    drain: () => void proxy.drain(),
    stop: () => proxy.stop(),
  };
}
