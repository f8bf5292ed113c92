/**
 * The analyzer registry (Suricata's app-layer registration table, Zeek's
 * analyzer manager): one record per protocol (name, transport, default ports,
 * probe, create). The capture loop and the flow table know protocols only
 * through it. A policy can switch any analyzer off by name; a disabled
 * analyzer is neither chosen by port nor probed.
 */
import type { AnalyzerRegistration } from './analyzer.js';
import { DuplicateAnalyzerError, UnknownAnalyzerError } from './errors.js';

export type Transport = 'tcp' | 'udp';

export class AnalyzerRegistry {
  private readonly byName = new Map<string, AnalyzerRegistration>();
  private readonly disabled = new Set<string>();
  /** Enabled registrations per transport, in registration order; rebuilt on every change. */
  private enabledCache: Record<Transport, readonly AnalyzerRegistration[]> = { tcp: [], udp: [] };
  private portCache = new Map<string, AnalyzerRegistration>();

  constructor(registrations: Iterable<AnalyzerRegistration> = []) {
    for (const reg of registrations) this.register(reg);
  }

  /** Adds a registration; names are unique (they key policies, DB rows and metrics). */
  register(reg: AnalyzerRegistration): void {
    if (this.byName.has(reg.name)) throw new DuplicateAnalyzerError(reg.name);
    this.byName.set(reg.name, reg);
    this.rebuild();
  }

  get(name: string): AnalyzerRegistration | undefined {
    return this.byName.get(name);
  }

  /** Like `get`, but a missing name is a configuration error. */
  require(name: string): AnalyzerRegistration {
    const reg = this.byName.get(name);
    if (reg === undefined) throw new UnknownAnalyzerError(name);
    return reg;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  enable(name: string): void {
    this.require(name);
    if (this.disabled.delete(name)) this.rebuild();
  }

  disable(name: string): void {
    this.require(name);
    if (!this.disabled.has(name)) {
      this.disabled.add(name);
      this.rebuild();
    }
  }

  isEnabled(name: string): boolean {
    return this.byName.has(name) && !this.disabled.has(name);
  }

  /**
   * Whether a registered analyzer is switched off. The flow table asks for every packet, and nearly
   * always nothing is off: then no lookup is made.
   */
  isDisabled(name: string): boolean {
    return this.disabled.size > 0 && this.disabled.has(name);
  }

  /** Enabled registrations of one transport, in registration order (the probing order). */
  enabled(transport: Transport): readonly AnalyzerRegistration[] {
    return this.enabledCache[transport];
  }

  /** The enabled registration whose default ports include `port` (first registered wins). */
  byPort(transport: Transport, port: number): AnalyzerRegistration | undefined {
    return this.portCache.get(`${transport}/${port}`);
  }

  private rebuild(): void {
    const tcp: AnalyzerRegistration[] = [];
    const udp: AnalyzerRegistration[] = [];
    const ports = new Map<string, AnalyzerRegistration>();
    for (const reg of this.byName.values()) {
      if (this.disabled.has(reg.name)) continue;
      (reg.transport === 'tcp' ? tcp : udp).push(reg);
      for (const port of reg.defaultPorts) {
        const key = `${reg.transport}/${port}`;
        if (!ports.has(key)) ports.set(key, reg);
      }
    }
    this.enabledCache = { tcp, udp };
    this.portCache = ports;
  }
}
