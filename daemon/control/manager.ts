/**
 * The manager (ARCHITECTURE.md, "manager"; the paper's section 5.2): every
 * tick it reads each watched server's metrics, applies the policy's rules
 * (hysteresis, holds, cooldown: policies/verdict.ts), and moves the desired
 * state: start a service and redirect the selected clients to it, or release
 * them back. Every decision goes to the timeline with its reason.
 *
 * While a service answers for a server, the router still sees the origin's
 * own traffic (the proxy's forwards, unredirected clients), but that no longer
 * shows the demand the server would get back on release. So the release test
 * adds the load the service absorbs: the server "recovers" when origin load
 * plus absorbed load falls below the low threshold.
 */
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { ClientSelector, Redirect } from '../actuators/types.js';
import { evaluate, initialVerdictState, serverMatches, verdictPhase } from '../../policies/index.js';
import type { Policy, ProtocolName, Rule, VerdictMetrics, VerdictState } from '../../policies/index.js';
import type { DesiredStateStore } from './desired-state-store.js';
import type { ServiceFactory, ServiceHandle } from './service-handle.js';
import { endpointText } from './server-registry.js';
import type { ServerRegistry, TrackedServer } from './server-registry.js';
import type { Timeline } from './timeline.js';

/** Samples of a service's absorbed-query counter kept to compute its rate over the metric window. */
export const MAX_ABSORBED_SAMPLES = 600;

interface Pair {
  rule: Rule;
  server: TrackedServer;
  verdict: VerdictState;
  service?: ServiceHandle;
  /** Started while the rule holds before acting, so activation only has to install rules. */
  prepared?: Promise<ServiceHandle | undefined>;
  redirectId?: string;
  absorbed: { ts: number; count: number }[];
  /** Set while an activation or release is in progress. */
  busy: boolean;
}

export interface ManagerDeps {
  registry: ServerRegistry;
  store: DesiredStateStore;
  services: ServiceFactory;
  timeline: Timeline;
  /** Which clients a rule redirects, with interfaces resolved on this router. */
  resolveClients(rule: Rule, server: TrackedServer): Promise<ClientSelector>;
  now(): number;
  log(level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>): void;
}

export class Manager {
  private readonly pairs = new Map<string, Pair>();
  private readonly draining = new Set<ServiceHandle>();
  private ticking = false;
  private stopped = false;
  private warnedUnsupported = new Set<string>();

  constructor(
    private policy: Policy,
    private readonly deps: ManagerDeps,
    /** Wall-clock ms before which the router only measures (the paper's "active" time). */
    private readonly activeAt: number,
  ) {}

  /** A new policy (SIGHUP): verdict states of rules that still exist are kept. */
  setPolicy(policy: Policy): void {
    this.policy = policy;
    for (const [key, pair] of this.pairs) {
      const rule = policy.rules.find((r) => r.name === pair.rule.name);
      if (rule) pair.rule = rule;
      else if (!pair.service) this.pairs.delete(key);
    }
  }

  async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const now = this.deps.now();
      await this.stopDrained();
      for (const rule of this.policy.rules) {
        for (const server of this.deps.registry.list()) {
          if (!serverMatches(rule.servers, { ip: server.endpoint.ip, port: server.endpoint.port, protocol: server.protocol as ProtocolName })) continue;
          await this.evaluatePair(rule, server, now);
        }
      }
      // Rules removed from the policy release what they held.
      for (const pair of this.pairs.values()) {
        if (pair.service && !this.policy.rules.some((r) => r.name === pair.rule.name)) {
          await this.release(pair, `rule '${pair.rule.name}' removed from the policy`, 'released', now);
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  /** What the status endpoint shows per (rule, server). */
  status(): { rule: string; server: string; phase: string; service?: string; target?: string }[] {
    return [...this.pairs.values()].map((p) => ({
      rule: p.rule.name,
      server: endpointText(p.server.endpoint),
      phase: verdictPhase(p.verdict),
      ...(p.service ? { service: p.service.id, target: endpointText(p.service.target) } : {}),
    }));
  }

  services(): ServiceHandle[] {
    return [...this.pairs.values()].flatMap((p) => (p.service ? [p.service] : [])).concat([...this.draining]);
  }

  /** Shutdown: stop every service; the caller clears the rules. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const pair of this.pairs.values()) {
      if (pair.redirectId) this.deps.store.removeRedirect(pair.redirectId);
      if (pair.service) {
        pair.service.resetSessions();
        await pair.service.stop().catch(() => undefined);
        pair.service = undefined;
      }
    }
    for (const pair of this.pairs.values()) if (pair.prepared) await this.unprepare(pair);
    for (const s of this.draining) await s.stop().catch(() => undefined);
    this.draining.clear();
  }

  private pairOf(rule: Rule, server: TrackedServer): Pair {
    const key = `${rule.name}|${server.key}`;
    let pair = this.pairs.get(key);
    if (!pair) {
      pair = { rule, server, verdict: initialVerdictState(endpointText(server.endpoint)), absorbed: [], busy: false };
      this.pairs.set(key, pair);
    }
    return pair;
  }

  private async evaluatePair(rule: Rule, server: TrackedServer, now: number): Promise<void> {
    const pair = this.pairOf(rule, server);
    if (pair.busy) return;
    if (now < this.activeAt) return;
    const metrics = this.metricsOf(pair, now);
    const before = verdictPhase(pair.verdict);
    const verdict = evaluate(pair.verdict, metrics, now, rule);
    pair.verdict = verdict.state;
    const after = verdictPhase(verdict.state);
    const name = endpointText(server.endpoint);
    if (before === 'idle' && (after === 'arming' || verdict.decision === 'activate')) {
      this.deps.timeline.add({ ts: now, server: name, kind: 'crossed', detail: verdict.reason });
    }
    if (after === 'arming' && !pair.service && !pair.prepared) this.prepare(pair);
    if (after === 'idle' && !pair.service && pair.prepared) await this.unprepare(pair);
    if (verdict.decision === 'activate') await this.activate(pair, verdict.reason, now);
    else if (verdict.decision === 'release') await this.release(pair, verdict.reason, 'released', now);
  }

  private metricsOf(pair: Pair, now: number): VerdictMetrics {
    const windowMs = this.policy.metrics.windowMs;
    const snap = this.deps.registry.snapshot(pair.server.key, now, windowMs);
    const metrics: VerdictMetrics = {
      samples: snap?.samples ?? 0,
      ...(snap?.rtAvgMs != null ? { rtAvgMs: snap.rtAvgMs } : {}),
      ...(snap?.qrAvg != null ? { qrAvg: snap.qrAvg } : {}),
    };
    if (pair.service) {
      const rate = this.absorbedRate(pair, now, windowMs);
      if (rate !== undefined) {
        metrics.qrAvg = (metrics.qrAvg ?? 0) + rate;
        metrics.samples += 1;
      }
    }
    return metrics;
  }

  /** Queries/s the service answered itself over the window (undefined until two samples exist). */
  private absorbedRate(pair: Pair, now: number, windowMs: number): number | undefined {
    const service = pair.service;
    if (!service) return undefined;
    pair.absorbed.push({ ts: now, count: service.absorbedQueries() });
    while (pair.absorbed.length > MAX_ABSORBED_SAMPLES || (pair.absorbed.length > 2 && pair.absorbed[1]!.ts <= now - windowMs)) {
      pair.absorbed.shift();
    }
    const first = pair.absorbed[0]!;
    const last = pair.absorbed[pair.absorbed.length - 1]!;
    if (last.ts - first.ts <= 0) return undefined;
    return ((last.count - first.count) * 1000) / (last.ts - first.ts);
  }

  private async activate(pair: Pair, reason: string, now: number): Promise<void> {
    const name = endpointText(pair.server.endpoint);
    const { rule } = pair;
    this.deps.timeline.add({ ts: now, server: name, kind: 'decision', detail: reason });
    if (rule.action.type !== 'cache-proxy' || pair.server.protocol !== 'opennap') {
      const key = `${rule.action.type}/${pair.server.protocol}`;
      if (!this.warnedUnsupported.has(key)) {
        this.warnedUnsupported.add(key);
        this.deps.log('warn', `action ${rule.action.type} is not available for ${pair.server.protocol} servers: nothing done`);
      }
      pair.verdict = { server: name, active: false, lastDecisionTs: now, lastEvalTs: now };
      return;
    }
    pair.busy = true;
    try {
      let service: ServiceHandle;
      try {
        const prepared = pair.prepared ? await pair.prepared : undefined;
        pair.prepared = undefined;
        service = prepared ?? (await this.deps.services.start(pair.server, rule));
      } catch (err) {
        this.deps.timeline.add({ ts: this.deps.now(), server: name, kind: 'service_failed', detail: errorText(err) });
        pair.verdict = { server: name, active: false, lastDecisionTs: now, lastEvalTs: now };
        return;
      }
      pair.service = service;
      pair.absorbed = [];
      this.deps.timeline.add({ ts: this.deps.now(), server: name, kind: 'service_started', detail: `${service.id} listening on ${endpointText(service.target)}` });
      service.onUnhealthy((why) => void this.withdraw(pair, service, why));
      const clients = await this.deps.resolveClients(rule, pair.server);
      const redirect: Redirect = { id: service.id, server: pair.server.endpoint, protocol: 'tcp', clients, to: service.target };
      pair.redirectId = redirect.id;
      this.deps.store.setRedirect(redirect);
      await this.applyAndRecord(name, now);
      // Answers seen while it was being prepared go in too, off the decision → rules-live path.
      service.warm(this.deps.registry.warmAnswers(pair.server.key));
    } finally {
      pair.busy = false;
    }
  }

  /**
   * Starts the service while the rule holds before acting: it listens and is
   * warm, but no rule sends it clients until activation. Keeps the decision →
   * rules-live path to the actuators alone.
   */
  private prepare(pair: Pair): void {
    if (pair.rule.action.type !== 'cache-proxy' || pair.server.protocol !== 'opennap') return;
    pair.prepared = this.deps.services.start(pair.server, pair.rule).catch((err: unknown) => {
      this.deps.log('warn', `preparing ${pair.rule.action.type} for ${endpointText(pair.server.endpoint)}: ${errorText(err)}`);
      return undefined;
    });
  }

  private async unprepare(pair: Pair): Promise<void> {
    const prepared = pair.prepared;
    pair.prepared = undefined;
    const service = prepared ? await prepared : undefined;
    await service?.stop().catch(() => undefined);
  }

  private async applyAndRecord(name: string, decidedAt: number): Promise<void> {
    try {
      const result = await this.deps.store.apply();
      const doneAt = this.deps.now();
      if (!result) {
        this.deps.timeline.add({ ts: doneAt, server: name, kind: 'rules_applied', detail: 'dry run: rules printed, none applied' });
        return;
      }
      const t = result.timings;
      this.deps.timeline.add({
        ts: doneAt, server: name, kind: 'rules_applied',
        detail:
          `rules reconciled in ${t.reconcileMs.toFixed(1)} ms, tracked flows deleted in ${t.conntrackMs.toFixed(1)} ms ` +
          `(rules live and old flows cut ${(doneAt - decidedAt - t.resetMs).toFixed(1)} ms after the decision), ` +
          `sessions reset at both ends in ${t.resetMs.toFixed(1)} ms more (${(doneAt - decidedAt).toFixed(1)} ms in all)`,
        data: { ...t, sinceDecisionMs: doneAt - decidedAt, rulesLiveMs: doneAt - decidedAt - t.resetMs },
      });
      const destroyed = result.flows.reduce((n, f) => n + f.destroyed, 0);
      const sessionsReset = result.resets.reduce((n, r) => n + r.sessionsReset, 0);
      if (result.flows.length > 0 || result.resets.length > 0) {
        this.deps.timeline.add({
          ts: doneAt, server: name, kind: 'flows_reset',
          detail: `${destroyed} tracked flow(s) deleted, ${sessionsReset} session(s) reset at both ends`,
          data: { destroyed, sessionsReset },
        });
      }
    } catch (err) {
      this.deps.timeline.add({ ts: this.deps.now(), server: name, kind: 'apply_failed', detail: errorText(err) });
      this.deps.log('error', `applying rules failed: ${errorText(err)}`);
    }
  }

  private async release(pair: Pair, reason: string, kind: 'released' | 'withdrawn', now: number): Promise<void> {
    const service = pair.service;
    const name = endpointText(pair.server.endpoint);
    if (!service) return;
    pair.busy = true;
    try {
      this.deps.timeline.add({ ts: now, server: name, kind: 'decision', detail: reason });
      if (pair.redirectId) this.deps.store.removeRedirect(pair.redirectId);
      pair.redirectId = undefined;
      pair.service = undefined;
      await this.applyAndRecord(name, now);
      const reset = kind === 'withdrawn' || pair.rule.action.onRelease === 'reset';
      if (reset) {
        service.resetSessions();
        await service.stop().catch((err) => this.deps.log('warn', `stopping ${service.id}: ${errorText(err)}`));
        this.deps.timeline.add({ ts: this.deps.now(), server: name, kind: 'service_stopped', detail: `${service.id} stopped, sessions reset` });
      } else {
        service.drain();
        this.draining.add(service);
      }
      this.deps.timeline.add({ ts: this.deps.now(), server: name, kind, detail: reason });
    } finally {
      pair.busy = false;
    }
  }

  /** The origin is unreachable from the service: hand the clients back instead of black-holing them. */
  private async withdraw(pair: Pair, service: ServiceHandle, why: string): Promise<void> {
    if (pair.service !== service) return;
    const now = this.deps.now();
    await this.release(pair, `${endpointText(pair.server.endpoint)} ${service.id} unhealthy (${why}): withdraw`, 'withdrawn', now);
    pair.verdict = { server: pair.verdict.server, active: false, lastDecisionTs: now, lastEvalTs: now };
  }

  private async stopDrained(): Promise<void> {
    for (const s of [...this.draining]) {
      if (s.sessions() > 0) continue;
      this.draining.delete(s);
      await s.stop().catch(() => undefined);
      this.deps.timeline.add({ ts: this.deps.now(), server: endpointText(s.origin), kind: 'service_stopped', detail: `${s.id} drained and stopped` });
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export type { Endpoint };
