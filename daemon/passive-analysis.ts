/**
 * The passive half of the daemon in one object (ARCHITECTURE.md, data flow):
 * frames → analyzers/ pipeline (decode, reassembly, protocol analyzers) →
 * events → the state database writer and the in-memory server registry the
 * manager reads. Used alike by live capture (`run`) and by `replay`, so a
 * capture replayed gives the same counts as the same traffic seen live (both
 * read them from the database; a replay has no manager, so it leaves the
 * registry out).
 */
import type { AnalyzerEvent } from '../analyzers/events.js';
import { Counters } from '../analyzers/counters.js';
import { AnalyzerRegistry } from '../analyzers/registry.js';
import { createPipeline } from '../analyzers/flows/pipeline.js';
import type { Pipeline, ServerSpec } from '../analyzers/flows/pipeline.js';
import { openNapRegistration } from '../analyzers/opennap/index.js';
import type { Policy } from '../policies/index.js';
import type { FrameBytesSink, FrameSink } from './capture/frame-sink.js';
import { ServerRegistry } from './control/server-registry.js';
import type { StateHandle } from './state/index.js';

/** Every analyzer this build has; the policy switches them on and off by name. */
export function buildAnalyzerRegistry(policy: Policy): AnalyzerRegistry {
  const registry = new AnalyzerRegistry([openNapRegistration]);
  applyProtocolSwitches(registry, policy);
  return registry;
}

/** Enables and disables the registry's analyzers as the policy's `protocols` say (absent: enabled). */
function applyProtocolSwitches(registry: AnalyzerRegistry, policy: Policy): void {
  for (const name of registry.names()) {
    const settings = policy.protocols[name as keyof Policy['protocols']];
    if (settings && !settings.enabled) registry.disable(name);
    else registry.enable(name);
  }
}

/** Server endpoints the analyzers attach to by port: the protocols' ports and the watch list's host:ports. */
export function pipelineServers(policy: Policy, registry: AnalyzerRegistry): ServerSpec[] {
  const specs: ServerSpec[] = [];
  for (const [name, settings] of Object.entries(policy.protocols)) {
    const reg = registry.get(name);
    if (!reg || !settings.enabled) continue;
    for (const port of settings.ports) specs.push({ transport: reg.transport, port, protocol: name });
  }
  for (const w of policy.watch) {
    const reg = registry.get(w.protocol);
    if (!reg || w.port === undefined || !policy.protocols[w.protocol].enabled) continue;
    // A single host gets an exact entry; a network is covered by the port entry.
    if (w.address.prefix === undefined) specs.push({ transport: reg.transport, port: w.port, protocol: w.protocol, ip: w.address.ip });
    else specs.push({ transport: reg.transport, port: w.port, protocol: w.protocol });
  }
  return specs;
}

export interface PassiveAnalysisOptions {
  policy: Policy;
  state: StateHandle;
  /** Extra listener (tests, the demo's recorder). */
  onEvent?: (event: AnalyzerEvent) => void;
  /** Keep search answers for cache warm starts (the daemon does; a replay has no proxy to warm). */
  keepAnswers?: boolean;
  /**
   * Feed the in-memory server registry (default true): the manager's per-server metric windows,
   * clients and kept answers. A replay says false: nothing reads them there (its figures come from
   * the database), and feeding them cost about a tenth of its time (BENCHMARKS.md). Implies no
   * kept answers.
   */
  feedManager?: boolean;
}

export class PassiveAnalysis {
  readonly counters = new Counters();
  readonly servers: ServerRegistry;
  readonly pipeline: Pipeline;
  /** Newest capture timestamp seen, to expire idle flows on capture time. */
  lastTs = 0;
  readonly onFrame: FrameSink;
  /** onFrame for a frame given as `bytes[start, end)`, as the file reader and the live capture hand them on. */
  readonly onFrameBytes: FrameBytesSink;
  private readonly registry: AnalyzerRegistry;
  private policy: Policy;

  constructor(private readonly options: PassiveAnalysisOptions) {
    const { policy, state } = options;
    this.policy = policy;
    const feedManager = options.feedManager !== false;
    const keepAnswers = feedManager && options.keepAnswers !== false;
    this.servers = new ServerRegistry({ queryRateN: policy.metrics.queriesPerSample, ...(keepAnswers ? {} : { warmBytes: 0 }) });
    const servers = feedManager ? this.servers : null;
    const registry = buildAnalyzerRegistry(policy);
    this.registry = registry;
    const writer = state.writer;
    const extra = options.onEvent;
    this.pipeline = createPipeline({
      registry,
      servers: pipelineServers(policy, registry),
      counters: this.counters,
      probe: policy.learn,
      wantsResults: (protocol, server, keywords) => this.servers.wantsResults(protocol, server, keywords),
      onEvent: (event) => {
        servers?.onEvent(event);
        writer.enqueue(event);
        extra?.(event);
      },
    });
    this.onFrameBytes = (linkType, bytes, start, end, ts) => {
      if (ts > this.lastTs) this.lastTs = ts;
      this.pipeline.handleFrameBytes(linkType, bytes, start, end, ts);
    };
    this.onFrame = (linkType, frame, ts, iface) => this.onFrameBytes(linkType, frame, 0, frame.length, ts, iface);
  }

  /**
   * A reloaded policy: analyzers switched on or off (a tracked flow of a protocol switched off ends
   * its analysis at its next packet), the server ports and watch list and self-study for flows that
   * start from now on, the N of every server's query rate, and the metric window the clients are
   * kept for. State is kept.
   */
  setPolicy(policy: Policy): void {
    // The pipeline first: a server entry it refuses throws before anything else has changed.
    this.pipeline.configure({ servers: pipelineServers(policy, this.registry), probe: policy.learn });
    applyProtocolSwitches(this.registry, policy);
    this.servers.setQueryRateN(policy.metrics.queriesPerSample);
    this.policy = policy;
  }

  /** Expires idle flows and forgets clients not seen within the metric window (both on capture time). */
  housekeeping(nowTs: number): void {
    const now = Math.max(this.lastTs, nowTs);
    this.pipeline.expire(now);
    this.servers.pruneClients(now - this.policy.metrics.windowMs);
  }

  /** All counters: pipeline oddities, the server registry's evictions and the state writer's. */
  allCounters(): Record<string, number> {
    return { ...this.counters.snapshot(), ...this.servers.counters(), ...this.options.state.writer.counters() };
  }

  /** Ends every flow (shutdown, end of a replay) so their analyzers report what they hold. */
  finish(ts: number): void {
    this.pipeline.closeAll(ts);
  }
}
