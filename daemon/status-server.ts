/**
 * The daemon's status endpoint: `GET /status` (JSON: servers, services,
 * redirects, timeline, counters, capture statistics), `GET /metrics`
 * (Prometheus text, prom-client) and `GET /healthz`. Binds to localhost or a
 * unix socket only (invariant 6): fleet views come from Prometheus scraping
 * each router, not from a protocol of ours.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { Gauge, Registry } from 'prom-client';
import type { StatusListen } from '../policies/index.js';
import { StatusListenError } from './errors.js';

export interface StatusServer {
  readonly server: Server;
  address(): string;
  stop(): Promise<void>;
}

export interface StatusSnapshot {
  servers: {
    address: string;
    protocol: string;
    rtAvgMs: number | null;
    qrAvg: number | null;
    queries: number;
    answered: number;
    unanswered: number;
    phase?: string;
  }[];
  services: { id: string; origin: string; stats: Record<string, number> }[];
  counters: Record<string, number>;
  capture: Record<string, { received: number; kernelDrops: number; ifaceDrops?: number }>;
  [key: string]: unknown;
}

function isLocalHost(ip: string): boolean {
  return ip === 'localhost' || ip.startsWith('127.') || ip === '::1';
}

/** Builds the Prometheus registry whose gauges are filled from the snapshot at scrape time. */
export function buildMetricsRegistry(snapshot: () => StatusSnapshot): Registry {
  const registry = new Registry();
  let current: StatusSnapshot | undefined;
  const fresh = (): StatusSnapshot => (current ??= snapshot());
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: StatusSnapshot) => void): void => {
    registry.registerMetric(
      new Gauge({
        name, help, labelNames, registers: [],
        collect() {
          this.reset();
          fill(this, fresh());
        },
      }),
    );
  };
  gauge('active_router_server_rt_avg_ms', 'RT_av: mean response time of the server over the metric window (ms)', ['server', 'protocol'], (g, s) => {
    for (const v of s.servers) if (v.rtAvgMs !== null) g.set({ server: v.address, protocol: v.protocol }, v.rtAvgMs);
  });
  gauge('active_router_server_qr_avg', 'QR_avg: mean query rate of the server over the metric window (queries/s)', ['server', 'protocol'], (g, s) => {
    for (const v of s.servers) if (v.qrAvg !== null) g.set({ server: v.address, protocol: v.protocol }, v.qrAvg);
  });
  gauge('active_router_server_queries', 'Queries seen for the server in the metric window', ['server', 'protocol'], (g, s) => {
    for (const v of s.servers) g.set({ server: v.address, protocol: v.protocol }, v.queries);
  });
  gauge('active_router_server_active', '1 while a service answers for the server', ['server', 'protocol'], (g, s) => {
    for (const v of s.servers) g.set({ server: v.address, protocol: v.protocol }, v.phase === 'active' || v.phase === 'disarming' ? 1 : 0);
  });
  gauge('active_router_service_stat', 'Counters of active services (cache proxy searches, hits, misses, forwards...)', ['service', 'origin', 'stat'], (g, s) => {
    for (const svc of s.services) for (const [stat, v] of Object.entries(svc.stats)) g.set({ service: svc.id, origin: svc.origin, stat }, v);
  });
  gauge('active_router_events', 'Named events counted by the daemon (malformed input, evictions, drops...)', ['name'], (g, s) => {
    for (const [name, v] of Object.entries(s.counters)) g.set({ name }, v);
  });
  gauge('active_router_capture_packets', 'Packets received per interface', ['interface'], (g, s) => {
    for (const [iface, st] of Object.entries(s.capture)) g.set({ interface: iface }, st.received);
  });
  gauge('active_router_capture_kernel_drops', 'Packets the kernel dropped before the daemon read them', ['interface'], (g, s) => {
    for (const [iface, st] of Object.entries(s.capture)) g.set({ interface: iface }, st.kernelDrops);
  });
  // A scrape reads one snapshot for all gauges.
  const original = registry.metrics.bind(registry);
  registry.metrics = async () => {
    current = undefined;
    try {
      return await original();
    } finally {
      current = undefined;
    }
  };
  return registry;
}

export async function startStatusServer(listen: StatusListen, snapshot: () => StatusSnapshot): Promise<StatusServer> {
  if (listen.kind === 'tcp' && !isLocalHost(listen.address.ip)) {
    throw new StatusListenError(`status endpoint must bind to localhost or a unix socket, not ${listen.address.ip}`);
  }
  const registry = buildMetricsRegistry(snapshot);
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(snapshot()));
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /status, /metrics or /healthz\n');
    }
  };
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new StatusListenError(`status endpoint: ${err.message}`)));
    if (listen.kind === 'unix') {
      if (existsSync(listen.path)) unlinkSync(listen.path);
      server.listen(listen.path, () => {
        chmodSync(listen.path, 0o660);
        resolve();
      });
    } else {
      server.listen(listen.address.port, listen.address.ip, () => resolve());
    }
  });
  return {
    server,
    address() {
      const a = server.address();
      if (typeof a === 'string' || a === null) return `unix:${listen.kind === 'unix' ? listen.path : a}`;
      return `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
