/**
 * Hands reassembled bytes and datagrams of a flow to its analyzer or its
 * prober, and enforces the analyzer life cycle (Zeek's analyzer tree): an
 * analyzer that reports a violation is removed from the flow, counted
 * `analyzer.violation.<name>`; one that throws (which the shared compliance
 * suite forbids) is removed too, counted `analyzer.exception.<name>`, so a
 * buggy analyzer can never take the capture loop down.
 */
import type { AnalyzerContext, AnalyzerRegistration, Direction, FlowEndReason, FlowKey } from '../analyzer.js';
import type { Counters } from '../counters.js';
import type { AnalyzerEvent } from '../events.js';
import type { Flow } from './flow.js';
import type { LearntServers } from './learnt-servers.js';
import type { ProbeOutcome } from './probe.js';
import type { StreamSink } from './reassembler.js';

type WantsResults = (protocol: string, server: { ip: string; port: number }, keywords: readonly string[]) => boolean;

export interface DispatcherOptions {
  counters: Counters;
  onEvent(event: AnalyzerEvent): void;
  learnt: LearntServers;
  /** Passed to analyzers as `AnalyzerContext.wantsResults`, with the flow's server. */
  wantsResults?: WantsResults;
}

/**
 * An analyzer's context. A class, not an object literal with a closure: one
 * small object per flow instead of an object, a closure and its scope
 * (about 100 bytes a flow at 100,000 flows).
 */
class FlowContext implements AnalyzerContext {
  constructor(
    readonly flow: FlowKey,
    readonly learnt: 'port' | 'probe',
    readonly emit: (event: AnalyzerEvent) => void,
    readonly count: (name: string, n?: number) => void,
    private readonly protocol: string,
    private readonly wants: WantsResults | undefined,
  ) {}

  wantsResults(keywords: readonly string[]): boolean {
    return this.wants === undefined || this.wants(this.protocol, this.flow.server, keywords);
  }
}

export class Dispatcher implements StreamSink {
  /** The flow whose reassembler is being pushed; set by the flow table before each push or flush. */
  current: Flow | null = null;
  private readonly emit: (event: AnalyzerEvent) => void;
  private readonly count: (name: string, n?: number) => void;

  constructor(private readonly opts: DispatcherOptions) {
    // One pair of functions shared by every analyzer context: no closures per flow.
    this.emit = (event) => opts.onEvent(event);
    this.count = (name, n = 1) => opts.counters.inc(name, n);
  }

  data(dir: Direction, bytes: Buffer, start: number, end: number, ts: number): void {
    const f = this.current;
    if (f === null) return;
    if (f.stream !== null) this.streamData(f, dir, bytes, start, end, ts);
    else if (f.prober !== null) this.probe(f, dir, bytes.subarray(start, end), ts);
  }

  gap(dir: Direction, length: number, ts: number): void {
    const f = this.current;
    if (f === null) return;
    if (f.stream !== null) {
      const a = f.stream;
      try {
        a.onGap(dir, length, ts);
      } catch {
        this.remove(f, 'exception');
        return;
      }
      if (a.violated) this.remove(f, 'violation');
    } else if (f.prober !== null) {
      // Probes judge the first bytes of a stream; after a hole there is no "first" left.
      this.opts.counters.inc('probe.gave_up_gap');
      this.stopProbing(f);
    }
  }

  /** One UDP datagram of `f`. */
  onDatagram(f: Flow, dir: Direction, bytes: Buffer, ts: number): void {
    if (f.datagram !== null) {
      const a = f.datagram;
      try {
        a.onDatagram(dir, bytes, ts);
      } catch {
        this.remove(f, 'exception');
        return;
      }
      if (a.violated) this.remove(f, 'violation');
    } else if (f.prober !== null) {
      this.probe(f, dir, bytes, ts);
    }
  }

  /** Creates `reg`'s analyzer on `f`. */
  attach(f: Flow, reg: AnalyzerRegistration, learnt: 'port' | 'probe'): void {
    const ctx = new FlowContext(f.flowKey(), learnt, this.emit, this.count, reg.name, this.opts.wantsResults);
    f.reg = reg;
    f.learnt = learnt;
    f.prober = null;
    try {
      if (reg.transport === 'tcp') f.stream = reg.create(ctx);
      else f.datagram = reg.create(ctx);
    } catch {
      this.remove(f, 'exception');
      return;
    }
    f.mode = 'analyzing';
    this.opts.counters.inc(`analyzer.attached.${reg.name}`);
  }

  /** The flow ended: the analyzer hears it once. */
  end(f: Flow, ts: number, reason: FlowEndReason): void {
    const a = f.stream ?? f.datagram;
    if (a !== null) {
      try {
        a.onEnd(ts, reason);
      } catch {
        this.opts.counters.inc(`analyzer.exception.${f.reg?.name ?? 'unknown'}`);
      }
    }
    f.stream = null;
    f.datagram = null;
    f.prober = null;
    f.mode = 'ignored';
  }

  /** A policy switched the flow's analyzer off while the flow was open. */
  disable(f: Flow, ts: number): void {
    this.opts.counters.inc(`analyzer.disabled_midflow.${f.reg?.name ?? 'unknown'}`);
    this.end(f, ts, 'shutdown');
  }

  private streamData(f: Flow, dir: Direction, bytes: Buffer, start: number, end: number, ts: number): void {
    const a = f.stream;
    if (a === null) return;
    try {
      if (a.onDataSpan !== undefined) a.onDataSpan(dir, bytes, start, end, ts);
      else a.onData(dir, start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), ts);
    } catch {
      this.remove(f, 'exception');
      return;
    }
    if (a.violated) this.remove(f, 'violation');
  }

  private probe(f: Flow, dir: Direction, bytes: Buffer, ts: number): void {
    const prober = f.prober;
    if (prober === null) return;
    const outcome: ProbeOutcome = prober.offer(dir, bytes, ts, this.opts.counters);
    switch (outcome.kind) {
      case 'need-more':
        return;
      case 'no':
        this.opts.counters.inc('probe.no_match');
        this.stopProbing(f);
        return;
      case 'bound':
        this.opts.counters.inc('probe.gave_up_bound');
        this.stopProbing(f);
        return;
      case 'match': {
        const reg = outcome.reg;
        this.opts.counters.inc(`probe.matched.${reg.name}`);
        if (this.opts.learnt.learn(f.transport, f.serverIp, f.serverPort, reg)) {
          this.opts.counters.inc('probe.learnt_server');
        }
        this.attach(f, reg, 'probe');
        // Replay what the probe saw first, then the bytes at hand, so the analyzer starts at byte 0.
        for (const chunk of prober.chunks) {
          if (f.mode !== 'analyzing') return;
          this.deliverTo(f, chunk.dir, chunk.bytes, chunk.ts);
        }
        if (f.mode === 'analyzing') this.deliverTo(f, dir, bytes, ts);
        return;
      }
    }
  }

  private deliverTo(f: Flow, dir: Direction, bytes: Buffer, ts: number): void {
    if (f.transport === 'tcp') this.streamData(f, dir, bytes, 0, bytes.length, ts);
    else this.onDatagram(f, dir, bytes, ts);
  }

  private stopProbing(f: Flow): void {
    f.prober = null;
    f.mode = 'ignored';
  }

  private remove(f: Flow, why: 'violation' | 'exception'): void {
    const name = f.reg?.name ?? 'unknown';
    this.opts.counters.inc(`analyzer.${why}.${name}`);
    if (f.learnt === 'probe' && f.reg !== null) this.opts.learnt.forget(f.transport, f.serverIp, f.serverPort, f.reg);
    f.stream = null;
    f.datagram = null;
    f.prober = null;
    f.mode = 'ignored';
  }
}
