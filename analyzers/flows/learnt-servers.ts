/**
 * Servers recognised by a probe (the paper's "self-study"): once a flow to
 * ip:port matched a protocol, later flows to that endpoint get the analyzer
 * directly. Bounded; the oldest entry is forgotten first, counted.
 */
import type { AnalyzerRegistration } from '../analyzer.js';
import type { Counters } from '../counters.js';

export class LearntServers {
  private readonly map = new Map<string, AnalyzerRegistration>();

  constructor(
    private readonly max: number,
    private readonly counters: Counters,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(transport: 'tcp' | 'udp', ip: string, port: number): AnalyzerRegistration | undefined {
    return this.map.get(key(transport, ip, port));
  }

  /** Remembers the endpoint; true when it was not known before. */
  learn(transport: 'tcp' | 'udp', ip: string, port: number, reg: AnalyzerRegistration): boolean {
    const k = key(transport, ip, port);
    const had = this.map.delete(k);
    if (!had && this.map.size >= this.max) {
      const oldest = this.map.keys().next();
      if (oldest.done !== true) this.map.delete(oldest.value);
      this.counters.inc('probe.learnt_evicted');
    }
    this.map.set(k, reg);
    return !had;
  }

  /** Forgets the endpoint if it was learnt for `reg` (its analyzer later reported a violation). */
  forget(transport: 'tcp' | 'udp', ip: string, port: number, reg: AnalyzerRegistration): void {
    const k = key(transport, ip, port);
    if (this.map.get(k) === reg) {
      this.map.delete(k);
      this.counters.inc('probe.learnt_forgotten');
    }
  }

  entries(): { transport: 'tcp' | 'udp'; ip: string; port: number; protocol: string }[] {
    return [...this.map].map(([k, reg]) => {
      const [transport, port, ip] = k.split(' ') as ['tcp' | 'udp', string, string];
      return { transport, ip, port: Number(port), protocol: reg.name };
    });
  }
}

function key(transport: string, ip: string, port: number): string {
  return `${transport} ${port} ${ip}`;
}
