/**
 * The transparent OpenNap cache proxy of seed 001 §4.2 and §5 ("virtual
 * cache proxy"): the daemon starts one per overloaded origin O and DNATs the
 * selected clients' new connections to O onto it. Each accepted socket is a
 * client that believes it talks to O; the proxy opens that user's own
 * session to O (through `upstreamSource`, so O sees the client's address),
 * relays everything but searches unchanged, and answers searches itself
 * from its local directory and its cache of O's answers, forwarding unseen
 * keywords to O without making the client wait (steps 1–3).
 *
 * Startable. Emits `'unhealthy'` (UpstreamUnreachableError) when O cannot be
 * reached, so the daemon withdraws its rule rather than black-hole clients,
 * and `'healthy'` when a later connection succeeds. `drain()` and
 * `resetSessions()` serve the release of a server.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import type { QueryDoneEvent } from '../../analyzers/events.js';
import { ServiceConfigError, ServiceStateError } from '../errors.js';
import type { UpstreamUnreachableError } from '../errors.js';
import type { Startable } from '../startable.js';
import { MAX_SWEEP_INTERVAL_MS, PARTIAL_FRAME_TIMEOUT_MS } from './limits.js';
import { ProxyCore } from './proxy-core.js';
import type { DepositOutcome } from './result-cache.js';
import { ProxySession } from './session.js';
import type { CacheProxyInit, CacheProxyStats } from './types.js';
import { listenCounted } from '../../opennap/listen.js';

interface CacheProxyEvents {
  unhealthy: [err: UpstreamUnreachableError];
  healthy: [];
}

function isPort(p: unknown, allowZero: boolean): boolean {
  return typeof p === 'number' && Number.isInteger(p) && p >= (allowZero ? 0 : 1) && p <= 65535;
}

function isPositive(n: unknown): boolean {
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

function validate(init: CacheProxyInit): void {
  if (net.isIP(init.origin?.ip ?? '') === 0) throw new ServiceConfigError(`origin ip "${String(init.origin?.ip)}" is not an IP address`);
  if (!isPort(init.origin.port, false)) throw new ServiceConfigError(`origin port ${String(init.origin.port)} is not 1…65535`);
  if (typeof init.listen?.host !== 'string' || init.listen.host.length === 0) throw new ServiceConfigError('listen host is empty');
  if (!isPort(init.listen.port, true)) throw new ServiceConfigError(`listen port ${String(init.listen.port)} is not 0…65535`);
  if (!isPositive(init.cacheTtlMs)) throw new ServiceConfigError(`cacheTtlMs ${String(init.cacheTtlMs)} must be > 0`);
  if (!isPositive(init.maxCacheEntries) || !Number.isInteger(init.maxCacheEntries)) {
    throw new ServiceConfigError(`maxCacheEntries ${String(init.maxCacheEntries)} must be a positive integer`);
  }
  if (!isPositive(init.maxCacheBytes)) throw new ServiceConfigError(`maxCacheBytes ${String(init.maxCacheBytes)} must be > 0`);
  if (!isPositive(init.upstreamConnectTimeoutMs)) {
    throw new ServiceConfigError(`upstreamConnectTimeoutMs ${String(init.upstreamConnectTimeoutMs)} must be > 0`);
  }
  if (typeof init.upstreamSource?.bind !== 'function') throw new ServiceConfigError('upstreamSource has no bind()');
}

export class CacheProxy extends EventEmitter<CacheProxyEvents> implements Startable {
  private readonly init: CacheProxyInit;
  private readonly core: ProxyCore;
  private readonly sessions = new Set<ProxySession>();
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private accepting = false;
  private isHealthy = true;
  private drainWaiters: (() => void)[] = [];

  constructor(init: CacheProxyInit) {
    super();
    validate(init);
    this.init = init;
    const now = init.now ?? Date.now;
    this.core = new ProxyCore({
      origin: { ip: init.origin.ip, port: init.origin.port },
      upstreamSource: init.upstreamSource,
      upstreamConnectTimeoutMs: init.upstreamConnectTimeoutMs,
      cacheTtlMs: init.cacheTtlMs,
      maxCacheEntries: init.maxCacheEntries,
      maxCacheBytes: init.maxCacheBytes,
      now,
      onUpstreamOpened: () => {
        if (!this.isHealthy) {
          this.isHealthy = true;
          this.emit('healthy');
        }
      },
      onUpstreamFailed: (err) => {
        if (this.isHealthy) {
          this.isHealthy = false;
          this.emit('unhealthy', err);
        }
      },
      onSessionClosed: (s) => {
        this.sessions.delete(s);
        if (this.sessions.size === 0) this.wakeDrainers();
      },
    });
  }

  /** False from the first failed upstream connection until one succeeds again. */
  get healthy(): boolean {
    return this.isHealthy;
  }

  async start(): Promise<void> {
    if (this.server !== undefined) throw new ServiceStateError('cache proxy already started');
    const server = net.createServer({ noDelay: true }, (socket) => {
      if (!this.accepting) {
        socket.on('error', () => undefined);
        socket.destroy();
        return;
      }
      const session = new ProxySession(this.nextId++, socket, this.core);
      this.sessions.add(session);
      session.open().catch(() => this.core.counters.inc('cache_proxy.session_open_exception'));
    });
    this.server = server;
    try {
      await listenCounted(server, this.init.listen.port, this.init.listen.host, () => this.core.counters.inc('cache_proxy.listener_error'));
    } catch (err) {
      this.server = undefined;
      throw err;
    }
    this.accepting = true;
    const sweepMs = Math.max(10, Math.min(MAX_SWEEP_INTERVAL_MS, this.init.cacheTtlMs / 4));
    this.timer = setInterval(() => this.sweep(), sweepMs).unref();
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.accepting = false;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of [...this.sessions]) s.destroy();
    this.sessions.clear();
    this.wakeDrainers();
    await closed;
  }

  /** Stops accepting; resolves once every open session has closed on its own. */
  drain(): Promise<void> {
    this.accepting = false;
    this.server?.close();
    if (this.sessions.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  /** Resets every client socket (TCP RST) so clients reconnect at once; returns how many. */
  resetSessions(): number {
    const all = [...this.sessions];
    for (const s of all) s.reset();
    return all.length;
  }

  /** Where the proxy listens. */
  address(): { host: string; port: number } {
    const addr = this.server?.address();
    if (addr === undefined || addr === null || typeof addr === 'string') throw new ServiceStateError('cache proxy is not listening');
    return { host: (addr as AddressInfo).address, port: (addr as AddressInfo).port };
  }

  /** Fills the cache from the answers the analyzer saw for this origin; returns how many were stored. */
  warm(events: readonly QueryDoneEvent[]): number {
    const o = this.init.origin;
    let stored = 0;
    // Oldest first, so the newest answer of a key is the one kept.
    for (const e of [...events].sort((a, b) => a.ts - b.ts)) {
      if (e.server.ip !== o.ip || e.server.port !== o.port) {
        this.core.counters.inc('cache_proxy.warm_other_server');
        continue;
      }
      const outcome = this.core.deposit(e.keywords, e.resultPayloads, e.ts);
      if (outcome === 'stored' || outcome === 'replaced') stored++;
    }
    return stored;
  }

  /** Deposits the 201 data sections answering `keywords`, seen at `ts` (ms). */
  deposit(keywords: readonly string[], resultPayloads: readonly Buffer[], ts: number): DepositOutcome | 'no_keywords' {
    return this.core.deposit(keywords, resultPayloads, ts);
  }

  stats(): CacheProxyStats {
    const c = this.core;
    return {
      sessions: this.sessions.size,
      searches: c.searches,
      hits: c.hits,
      misses: c.misses,
      forwards: c.forwards,
      localResults: c.localResults,
      cacheResults: c.cacheResults,
      cacheEntries: c.cache.size,
      cacheBytes: c.cache.bytes,
      evictions: c.cache.evictions,
      expired: c.cache.expired,
      upstreamFailures: c.upstreamFailures,
      latencyP50Ms: c.latency.percentile(0.5),
      latencyP99Ms: c.latency.percentile(0.99),
      // Every search received is answered by the proxy itself (with results or a 404).
      searchesAnswered: c.searches,
      events: c.events(),
    };
  }

  private sweep(): void {
    this.core.cache.sweep(this.core.now());
    const wall = Date.now();
    for (const s of this.sessions) {
      if (s.partialSince !== 0 && wall - s.partialSince > PARTIAL_FRAME_TIMEOUT_MS) s.drop('cache_proxy.partial_frame_timeout');
    }
  }

  private wakeDrainers(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}
