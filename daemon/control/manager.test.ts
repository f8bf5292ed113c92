// The manager's decisions over time, with an in-memory service and actuator (unit level: no sockets, no iptables).
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../policies/index.js';
import type { Policy } from '../../policies/index.js';
import type { ApplyResult } from '../actuators/apply-desired.js';
import type { DesiredState } from '../actuators/types.js';
import { DesiredStateStore } from './desired-state-store.js';
import { Manager } from './manager.js';
import type { ServiceFactory, ServiceHandle } from './service-handle.js';
import { ServerRegistry } from './server-registry.js';
import { Timeline } from './timeline.js';

const POLICY = `
interfaces: [eth-a]
learn: false
watch:
  - { address: 10.0.1.10, port: 8888, protocol: opennap }
metrics: { window: 2s, queriesPerSample: 5, tick: 100ms }
rules:
  - name: overload
    metric: query-rate
    high: { queryRate: 10 }
    low: { queryRate: 4 }
    holdBeforeAct: 500ms
    holdBeforeRelease: 1s
    cooldown: 1s
    clients: { interfaces: [eth-b] }
    action: { type: cache-proxy, listen: 10.0.2.1:9888, onRelease: reset }
`;

function policy(): Policy {
  const r = loadPolicy(POLICY, 'test.yaml');
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r.errors));
  return r.policy;
}

class FakeService implements ServiceHandle {
  readonly id = 'cache-proxy:10.0.1.10:8888';
  readonly type = 'cache-proxy' as const;
  readonly origin = { ip: '10.0.1.10', port: 8888 };
  readonly target = { ip: '10.0.2.1', port: 9888 };
  readonly startedAt = 0;
  absorbed = 0;
  stopped = false;
  resets = 0;
  warmed = 0;
  private unhealthy: ((r: string) => void)[] = [];
  absorbedQueries = () => this.absorbed;
  stats = () => ({ searches: this.absorbed });
  warm = (a: unknown[]) => (this.warmed += a.length);
  healthy = () => true;
  onUnhealthy = (cb: (r: string) => void) => void this.unhealthy.push(cb);
  sessions = () => 0;
  resetSessions = () => void this.resets++;
  drain = () => undefined;
  stop = async () => void (this.stopped = true);
  fail(reason: string) {
    for (const cb of this.unhealthy) cb(reason);
  }
}

function setup() {
  let now = 1_000_000;
  const registry = new ServerRegistry({ queryRateN: 5 });
  const applied: DesiredState[] = [];
  const store = new DesiredStateStore(async (d) => {
    applied.push(d);
    return { reconcile: { families: [], skipped: [], applied: true }, flows: [], resets: [], timings: { reconcileMs: 1, conntrackMs: 1, resetMs: 0, totalMs: 2 } } as ApplyResult;
  });
  const services: FakeService[] = [];
  const factory: ServiceFactory = { start: async () => { const s = new FakeService(); services.push(s); return s; } };
  const timeline = new Timeline();
  const manager = new Manager(policy(), {
    registry, store, services: factory, timeline,
    resolveClients: async () => ({ inInterfaces: ['eth-b'] }),
    now: () => now,
    log: () => undefined,
  }, 0);
  const server = { ip: '10.0.1.10', port: 8888 };
  const client = { ip: '10.0.2.8', port: 40000 };
  let seq = 0;
  /** Feeds `rate` queries/s (answered after 1 ms) for `ms`, ticking every 100 ms. */
  async function run(rate: number, ms: number): Promise<void> {
    const end = now + ms;
    let nextQuery = now;
    while (now < end) {
      now += 100;
      while (rate > 0 && nextQuery <= now) {
        registry.onEvent({ kind: 'query', protocol: 'opennap', server, client, seq: seq++, keywords: ['k'], maxResults: 100, ts: nextQuery });
        registry.onEvent({ kind: 'first_response', protocol: 'opennap', server, client, seq: seq - 1, queryTs: nextQuery, ts: nextQuery + 1 });
        nextQuery += 1000 / rate;
      }
      if (rate === 0) nextQuery = now;
      await manager.tick();
    }
  }
  return { manager, timeline, applied, services, run, advance: (ms: number) => (now += ms), get now() { return now; } };
}

describe('Manager', () => {
  it('activates after the hold and installs one redirect to the started service', async () => {
    const t = setup();
    await t.run(5, 3000);
    expect(t.applied).toHaveLength(0);
    await t.run(20, 3000);
    const kinds = t.timeline.list().map((e) => e.kind);
    expect(kinds).toEqual(['crossed', 'decision', 'service_started', 'rules_applied']);
    const crossed = t.timeline.list().find((e) => e.kind === 'crossed')!;
    const decision = t.timeline.list().find((e) => e.kind === 'decision')!;
    expect(decision.ts - crossed.ts).toBeGreaterThanOrEqual(500);
    expect(decision.detail).toMatch(/QR_avg .* > 10 for .*: start cache-proxy/);
    expect(t.applied.at(-1)?.redirects).toEqual([
      { id: 'cache-proxy:10.0.1.10:8888', server: { ip: '10.0.1.10', port: 8888 }, protocol: 'tcp', clients: { inInterfaces: ['eth-b'] }, to: { ip: '10.0.2.1', port: 9888 } },
    ]);
    expect(t.services).toHaveLength(1);
  });

  it('keeps the redirect while the service absorbs the load, releases when total demand drops', async () => {
    const t = setup();
    await t.run(20, 3000);
    const service = t.services[0]!;
    // Clients now talk to the proxy: the origin sees nothing, the proxy answers 20/s.
    for (let i = 0; i < 30; i++) {
      service.absorbed += 2;
      await t.run(0, 100);
    }
    expect(t.timeline.list().some((e) => e.kind === 'released')).toBe(false);
    // Demand falls: the proxy answers nothing more.
    await t.run(0, 4000);
    const released = t.timeline.list().find((e) => e.kind === 'released');
    expect(released?.detail).toMatch(/QR_avg .* < 4 for .*: stop cache-proxy/);
    expect(t.applied.at(-1)?.redirects).toEqual([]);
    expect(service.resets).toBe(1);
    expect(service.stopped).toBe(true);
  });

  it('withdraws the redirect when the service reports the origin unreachable', async () => {
    const t = setup();
    await t.run(20, 3000);
    const service = t.services[0]!;
    service.fail('connect ETIMEDOUT');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const withdrawn = t.timeline.list().find((e) => e.kind === 'withdrawn');
    expect(withdrawn?.detail).toMatch(/unhealthy \(connect ETIMEDOUT\): withdraw/);
    expect(t.applied.at(-1)?.redirects).toEqual([]);
    expect(service.stopped).toBe(true);
  });

  it('does nothing before its active time', async () => {
    const t = setup();
    const m = new Manager(policy(), {
      registry: new ServerRegistry({ queryRateN: 5 }), store: new DesiredStateStore(async () => undefined),
      services: { start: async () => new FakeService() }, timeline: t.timeline,
      resolveClients: async () => ({}), now: () => t.now, log: () => undefined,
    }, Number.MAX_SAFE_INTEGER);
    await m.tick();
    expect(m.status()).toEqual([]);
  });
});
