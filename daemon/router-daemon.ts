/**
 * The daemon (`active-router run`): capture → passive analysis → manager →
 * actuators → services, with its lifecycle (ARCHITECTURE.md). Start-up first
 * reconciles the rules to empty, which removes whatever a killed earlier run
 * left (fail-open); SIGHUP re-reads and validates the policy and keeps all
 * state; SIGTERM stops services and removes every rule of ours.
 */
import { mkdirSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { applyDesiredState } from './actuators/apply-desired.js';
import { Conntrack } from './actuators/conntrack.js';
import { IptablesActuator } from './actuators/iptables-actuator.js';
import { TcpResetInjector } from './actuators/tcp-reset.js';
import { EMPTY_DESIRED_STATE } from './actuators/types.js';
import type { ClientSelector } from './actuators/types.js';
import { LiveCapture } from './capture/live-capture.js';
import { buildBpfFilter } from './capture/bpf-filter.js';
import { CacheProxyFactory } from './control/cache-proxy-service.js';
import { DesiredStateStore } from './control/desired-state-store.js';
import { interfaceAddresses, routeInterface } from './control/interfaces.js';
import { CommandHelper } from './actuators/command-helper.js';
import { Manager } from './control/manager.js';
import { endpointText } from './control/server-registry.js';
import type { TrackedServer } from './control/server-registry.js';
import { Timeline } from './control/timeline.js';
import { DaemonStartError } from './errors.js';
import { PassiveAnalysis, buildAnalyzerRegistry, pipelineServers } from './passive-analysis.js';
import { openState } from './state/index.js';
import type { StateHandle } from './state/index.js';
import { startStatusServer } from './status-server.js';
import type { StatusServer, StatusSnapshot } from './status-server.js';
import { formatAddress, formatIssue, loadPolicyFile, verdictPhase } from '../policies/index.js';
import type { Policy, Rule, StatusListen } from '../policies/index.js';

/**
 * Time for segments forwarded just before a redirect to reach the capture, so
 * the RSTs sent to both ends of moved sessions carry current sequence numbers
 * (a stale one is below the receiver's window and silently dropped).
 */
export const RESET_SETTLE_MS = 5;

/** How often idle flows are expired and counters saved. */
export const HOUSEKEEPING_INTERVAL_MS = 1000;
/** How often old DB rows are pruned (retention from the policy). */
export const PRUNE_INTERVAL_MS = 60_000;
/** How often each server's metric window is stored in the DB. */
export const METRIC_WINDOW_INTERVAL_MS = 5000;

export interface RouterDaemonOptions {
  policyPath: string;
  /** Overrides the policy's database path. */
  dbPath?: string;
  /** Overrides the policy's status listen address. */
  statusListen?: StatusListen;
  /** Also write the status JSON to this file every second (atomically). */
  statusFile?: string;
  /** Seconds after start before the manager may act: until then a plain router that measures. */
  activeAfterS: number;
  /** Overrides the policy's dryRun. */
  dryRun?: boolean;
  /** Overrides the policy's interfaces. */
  interfaces?: string[];
  log: Logger;
}

export class RouterDaemon {
  private policy!: Policy;
  private state!: StateHandle;
  private analysis!: PassiveAnalysis;
  private capture!: LiveCapture;
  private iptables!: IptablesActuator;
  /** Runs iptables and ip for us, so the daemon itself never forks once running (command-helper.ts). */
  private commands: CommandHelper | undefined;
  private conntrack: Conntrack | undefined;
  private resetInjector: TcpResetInjector | undefined;
  private store!: DesiredStateStore;
  private manager!: Manager;
  private status: StatusServer | undefined;
  private readonly timeline: Timeline;
  private timers: NodeJS.Timeout[] = [];
  private startedAt = 0;
  private activeAt = 0;
  private stopping: Promise<void> | undefined;
  /** The status file write under way, if any (at most one at a time). */
  private statusWrite: Promise<void> | undefined;

  constructor(private readonly options: RouterDaemonOptions) {
    this.timeline = new Timeline((e) => {
      this.options.log.info({ server: e.server, kind: e.kind, ...e.data }, e.detail);
      try {
        this.state?.reader.logEvent({ ts: e.ts, level: e.kind.endsWith('failed') ? 'error' : 'info', kind: `manager.${e.kind}`, message: `${e.server} ${e.detail}`, data: e.data });
      } catch {
        // The event log is a record, never a reason to stop acting.
      }
    });
  }

  get dryRun(): boolean {
    return this.options.dryRun ?? this.policy.dryRun;
  }

  async start(): Promise<void> {
    const { log } = this.options;
    this.policy = await this.loadPolicy();
    const policy = this.policy;
    this.startedAt = Date.now();
    this.activeAt = this.startedAt + this.options.activeAfterS * 1000;

    const dbPath = this.options.dbPath ?? policy.database.path;
    try {
      mkdirSync(dirname(dbPath), { recursive: true });
    } catch (err) {
      throw new DaemonStartError(`state database directory ${dirname(dbPath)}: ${(err as Error).message}`, { cause: err });
    }
    this.state = openState(dbPath, {
      queryRateN: policy.metrics.queriesPerSample,
      settings: { retentionMs: { queries: policy.database.retentionMs, metricWindows: policy.database.retentionMs, events: policy.database.retentionMs, sessions: policy.database.retentionMs } },
      thread: policy.database.writer === 'thread',
    });
    this.state.writer.start();
    this.analysis = new PassiveAnalysis({ policy, state: this.state });

    // Before the capture opens its ring: the one fork this costs is cheap while the process is small.
    this.commands = CommandHelper.start((why) => log.warn(`${why}: commands now run from the daemon itself, each pausing it while it forks`));
    try {
      this.iptables = await IptablesActuator.create({ run: this.commands.run });
    } catch (err) {
      throw new DaemonStartError(`iptables: ${(err as Error).message}`, { cause: err });
    }
    if (!this.dryRun) {
      try {
        this.conntrack = Conntrack.open();
      } catch (err) {
        throw new DaemonStartError(`conntrack: ${(err as Error).message}`, { cause: err });
      }
      try {
        this.resetInjector = TcpResetInjector.open();
      } catch (err) {
        // Without it redirected clients still reconnect (on their next segment), but the origin keeps their stale session.
        log.warn(`raw socket for TCP resets unavailable: ${(err as Error).message}`);
      }
      // Fail-open repair: whatever an earlier run left is reconciled away before anything else.
      const cleaned = await this.iptables.reconcile(EMPTY_DESIRED_STATE);
      const removed = cleaned.families.reduce((n, f) => n + f.redirects.removed.length + f.snats.removed.length, 0);
      log.info({ backend: this.iptables.backend.kind, removedStale: removed }, `iptables ready (${this.iptables.backend.kind} backend), ${removed} stale rule(s) removed`);
    }
    this.store = new DesiredStateStore(async (desired) => {
      if (this.dryRun) {
        const plan = await this.iptables.plan(desired);
        for (const f of plan.families) if (f.script.trim()) process.stdout.write(`# dry run: would apply (IPv${f.family})\n${f.script}\n`);
        return undefined;
      }
      return applyDesiredState({
        iptables: this.iptables,
        conntrack: this.conntrack,
        now: () => performance.now(),
        tcpSessions: (f) => this.analysis.pipeline.flows.tcpSessions(f),
        resetInjector: this.resetInjector,
        settleMs: RESET_SETTLE_MS,
      }, desired);
    });
    this.manager = new Manager(policy, {
      registry: this.analysis.servers,
      store: this.store,
      timeline: this.timeline,
      services: new CacheProxyFactory({
        registry: this.analysis.servers,
        store: this.store,
        dryRun: this.dryRun,
        targetAddress: (rule, server) => this.targetAddress(rule, server),
        log: (level, message) => log[level](message),
      }),
      resolveClients: (rule, server) => this.resolveClients(rule, server),
      now: () => Date.now(),
      log: (level, message, data) => log[level](data ?? {}, message),
    }, this.activeAt);
    this.declareWatched(policy);

    this.capture = this.createCapture(policy);
    try {
      await this.capture.start();
    } catch (err) {
      throw new DaemonStartError(`capture: ${(err as Error).message}`, { cause: err });
    }
    const listen = this.options.statusListen ?? policy.status.listen;
    this.status = await startStatusServer(listen, () => this.snapshot());
    log.info({ status: this.status.address(), interfaces: this.interfaces(policy) }, `active-router running: capturing on ${this.interfaces(policy).join(', ')}, status on ${this.status.address()}${this.options.activeAfterS > 0 ? `, active in ${this.options.activeAfterS} s` : ''}${this.dryRun ? ' (dry run)' : ''}`);
    this.startTimers();
  }

  /** SIGHUP: validate the new policy first; an invalid one is refused and the old one stays. */
  async reload(): Promise<boolean> {
    const { log } = this.options;
    const result = await loadPolicyFile(this.options.policyPath);
    if (result.kind === 'error') {
      for (const issue of result.errors) log.error(formatIssue(issue));
      log.error(`policy ${this.options.policyPath} refused (${result.errors.length} issue(s)); keeping the running policy`);
      return false;
    }
    const old = this.policy;
    this.policy = result.policy;
    this.manager.setPolicy(result.policy);
    this.analysis.setPolicy(result.policy);
    this.declareWatched(result.policy);
    const captureChanged = JSON.stringify([this.interfaces(old), this.filterOf(old)]) !== JSON.stringify([this.interfaces(result.policy), this.filterOf(result.policy)]);
    if (captureChanged) {
      const next = this.createCapture(result.policy);
      await this.capture.stop();
      this.capture = next;
      await this.capture.start();
    }
    this.restartTimers();
    log.info(`policy ${this.options.policyPath} reloaded${captureChanged ? ' (capture restarted)' : ''}`);
    return true;
  }

  /** The policy's single watched servers are tracked before any of their traffic is seen. */
  private declareWatched(policy: Policy): void {
    for (const w of policy.watch) {
      if (w.address.prefix === undefined && w.port !== undefined) this.analysis.servers.declare(w.protocol, { ip: w.address.ip, port: w.port }, Date.now());
    }
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const { log } = this.options;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.statusWrite;
    await this.capture?.stop().catch((err: unknown) => log.warn(`capture stop: ${String(err)}`));
    await this.manager?.stop();
    this.store?.reset();
    if (this.iptables && !this.dryRun) {
      try {
        await this.iptables.clear();
        log.info('rules removed');
      } catch (err) {
        log.error(`removing rules failed: ${(err as Error).message}`);
      }
    }
    await this.commands?.close();
    this.conntrack?.close();
    this.resetInjector?.close();
    this.analysis?.finish(Date.now());
    await this.status?.stop();
    try {
      this.state?.reader.saveCounters(this.analysis?.allCounters() ?? {}, Date.now());
    } catch {
      // Saving counters at exit is best effort.
    }
    this.state?.close();
  }

  snapshot(): StatusSnapshot {
    const now = Date.now();
    const windowMs = this.policy.metrics.windowMs;
    const phases = new Map(this.manager.status().map((s) => [s.server, s.phase]));
    const servers = this.analysis.servers.list().map((s) => {
      const snap = s.metrics.snapshot(now, windowMs);
      const address = endpointText(s.endpoint);
      return {
        address, protocol: s.protocol, learnt: s.learnt, clients: this.analysis.servers.clientsSince(s, now - windowMs),
        queries: snap.queries, answered: snap.answered, unanswered: snap.unanswered,
        rtAvgMs: snap.rtAvgMs, rtP50Ms: snap.rtP50Ms, rtP99Ms: snap.rtP99Ms, qrAvg: snap.qrAvg,
        phase: phases.get(address) ?? 'idle',
      };
    });
    const services = this.manager.services().map((s) => ({
      id: s.id, type: s.type, origin: endpointText(s.origin), listen: endpointText(s.target), startedAt: s.startedAt, healthy: s.healthy(), stats: s.stats(),
    }));
    const capture = Object.fromEntries(Object.entries(this.capture.stats()).map(([k, v]) => [k, { received: v.received, kernelDrops: v.kernelDrops, ifaceDrops: v.ifaceDrops, delivered: v.delivered }]));
    return {
      now, startedAt: this.startedAt, activeAt: this.activeAt, active: now >= this.activeAt, dryRun: this.dryRun, policy: this.options.policyPath,
      servers, services,
      redirects: this.store.current().redirects.map((r) => ({ id: r.id, server: endpointText(r.server), to: endpointText(r.to), clients: r.clients })),
      snats: this.store.current().snats.length,
      rules: this.manager.status(),
      timeline: this.timeline.list(),
      counters: { ...this.analysis.allCounters(), ...(this.resetInjector?.counters.snapshot() ?? {}) },
      capture,
    };
  }

  private async loadPolicy(): Promise<Policy> {
    const result = await loadPolicyFile(this.options.policyPath);
    if (result.kind === 'error') {
      for (const issue of result.errors) process.stderr.write(`${formatIssue(issue)}\n`);
      throw new DaemonStartError(`policy ${this.options.policyPath} is invalid (${result.errors.length} issue(s))`);
    }
    return result.policy;
  }

  private interfaces(policy: Policy): string[] {
    return this.options.interfaces ?? policy.interfaces;
  }

  private filterOf(policy: Policy): string {
    const registry = buildAnalyzerRegistry(policy);
    const specs = pipelineServers(policy, registry);
    return buildBpfFilter({
      servers: specs.filter((s) => s.ip !== undefined).map((s) => ({ ip: s.ip!, port: s.port, transport: s.transport })),
      ports: specs.filter((s) => s.ip === undefined).map((s) => ({ port: s.port, transport: s.transport })),
      learn: policy.learn,
    });
  }

  private createCapture(policy: Policy): LiveCapture {
    return new LiveCapture({
      interfaces: this.interfaces(policy),
      filter: this.filterOf(policy),
      snaplen: policy.capture.snaplen,
      bufferBytes: policy.capture.bufferBytes,
      onFrameBytes: this.analysis.onFrameBytes,
      onCallbackError: (err, iface) => this.options.log.error(`frame handler on ${iface}: ${String(err)}`),
    });
  }

  private startTimers(): void {
    const { log } = this.options;
    const tickMs = this.policy.metrics.tickMs;
    this.timers.push(setInterval(() => {
      this.manager.tick().catch((err: unknown) => log.error(`manager tick: ${String(err)}`));
    }, tickMs));
    this.timers.push(setInterval(() => {
      this.analysis.housekeeping(Date.now());
      if (this.options.statusFile) this.writeStatusFile(this.options.statusFile);
    }, HOUSEKEEPING_INTERVAL_MS));
    this.timers.push(setInterval(() => this.recordWindows(), METRIC_WINDOW_INTERVAL_MS));
    this.timers.push(setInterval(() => {
      try {
        this.state.writer.prune(Date.now());
        this.state.reader.saveCounters(this.analysis.allCounters(), Date.now());
      } catch (err) {
        log.warn(`prune: ${String(err)}`);
      }
    }, PRUNE_INTERVAL_MS));
    for (const t of this.timers) t.unref();
  }

  private restartTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.startTimers();
  }

  /**
   * Writes the status file (temporary file, then rename) without blocking the event loop, which also
   * carries the capture and the in-process proxies: written synchronously it held the loop 1-1.7 ms
   * every second (5.9 ms at worst). A write still under way when the next is due skips that one.
   */
  private writeStatusFile(path: string): void {
    if (this.statusWrite !== undefined) return;
    const warn = (err: unknown): void => this.options.log.warn(`status file ${path}: ${String(err)}`);
    let text: string;
    try {
      text = JSON.stringify(this.snapshot());
    } catch (err) {
      warn(err);
      return;
    }
    this.statusWrite = writeFile(`${path}.tmp`, text)
      .then(() => rename(`${path}.tmp`, path))
      .catch(warn)
      .finally(() => {
        this.statusWrite = undefined;
      });
  }

  private recordWindows(): void {
    const now = Date.now();
    // DB rows carry the same "protocol:address" text the registry keys servers by.
    const ids = new Map(this.state.reader.listServers().map((s) => [`${s.protocol}:${s.address}`, s.id]));
    for (const s of this.analysis.servers.list()) {
      const id = ids.get(s.key);
      if (id !== undefined) this.state.writer.recordMetricWindow(id, now, this.policy.metrics.windowMs, s.metrics.snapshot(now, this.policy.metrics.windowMs));
    }
  }

  /** Clients a rule moves: its interfaces (or every interface but the server's), its address lists. */
  private async resolveClients(rule: Rule, server: TrackedServer): Promise<ClientSelector> {
    let inInterfaces = rule.clients.interfaces;
    if (inInterfaces.length === 0) {
      const serverSide = await routeInterface(server.endpoint.ip, this.commands?.run);
      const all = [...(await interfaceAddresses(this.commands?.run)).keys()].filter((i) => i !== 'lo' && i !== serverSide);
      inInterfaces = all;
    }
    return {
      inInterfaces,
      sources: rule.clients.addresses.map(formatAddress),
      except: rule.clients.except.map(formatAddress),
    };
  }

  /** Where the DNAT sends clients when the rule listens on 0.0.0.0: this router's address on their side. */
  private async targetAddress(rule: Rule, server: TrackedServer): Promise<string> {
    const addresses = await interfaceAddresses(this.commands?.run);
    for (const iface of rule.clients.interfaces) {
      const a = addresses.get(iface);
      if (a) return a;
    }
    const serverSide = await routeInterface(server.endpoint.ip, this.commands?.run);
    for (const [iface, a] of addresses) if (iface !== 'lo' && iface !== serverSide) return a;
    throw new DaemonStartError(`no local IPv4 address to redirect clients of ${endpointText(server.endpoint)} to`);
  }
}

export { verdictPhase };
