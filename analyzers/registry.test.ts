import { describe, expect, it } from 'vitest';
import type { AnalyzerRegistration } from './analyzer.js';
import { Counters } from './counters.js';
import { DuplicateAnalyzerError, UnknownAnalyzerError } from './errors.js';
import { AnalyzerRegistry } from './registry.js';

function reg(name: string, transport: 'tcp' | 'udp', ports: number[]): AnalyzerRegistration {
  const base = { name, defaultPorts: ports, probe: () => 'no' as const };
  return transport === 'tcp'
    ? { ...base, transport, create: () => ({ confirmed: false, violated: false, onData() {}, onGap() {}, onEnd() {} }) }
    : { ...base, transport, create: () => ({ confirmed: false, violated: false, onDatagram() {}, onEnd() {} }) };
}

describe('AnalyzerRegistry', () => {
  const a = reg('alpha', 'tcp', [8888, 7777]);
  const b = reg('beta', 'tcp', [7777, 9000]);
  const d = reg('dht', 'udp', [6881]);

  it('looks up by transport and port; the first registered wins a shared port', () => {
    const r = new AnalyzerRegistry([a, b, d]);
    expect(r.byPort('tcp', 8888)).toBe(a);
    expect(r.byPort('tcp', 7777)).toBe(a);
    expect(r.byPort('tcp', 9000)).toBe(b);
    expect(r.byPort('udp', 6881)).toBe(d);
    expect(r.byPort('tcp', 6881)).toBeUndefined();
    expect(r.enabled('tcp')).toEqual([a, b]);
    expect(r.enabled('udp')).toEqual([d]);
    expect(r.names()).toEqual(['alpha', 'beta', 'dht']);
  });

  it('disable and enable by name', () => {
    const r = new AnalyzerRegistry([a, b, d]);
    expect(r.isDisabled('alpha')).toBe(false);
    r.disable('alpha');
    expect(r.isDisabled('alpha')).toBe(true);
    expect(r.isDisabled('beta')).toBe(false);
    expect(r.isEnabled('alpha')).toBe(false);
    expect(r.byPort('tcp', 8888)).toBeUndefined();
    expect(r.byPort('tcp', 7777)).toBe(b);
    expect(r.enabled('tcp')).toEqual([b]);
    expect(r.get('alpha')).toBe(a);
    r.enable('alpha');
    expect(r.isDisabled('alpha')).toBe(false);
    expect(r.byPort('tcp', 7777)).toBe(a);
    expect(r.isEnabled('nobody')).toBe(false);
  });

  it('rejects duplicate and unknown names with coded errors', () => {
    const r = new AnalyzerRegistry([a]);
    expect(() => r.register(reg('alpha', 'udp', []))).toThrow(DuplicateAnalyzerError);
    expect(() => r.disable('nobody')).toThrow(UnknownAnalyzerError);
    try {
      r.require('nobody');
    } catch (err) {
      expect(err).toMatchObject({ name: 'UnknownAnalyzerError', code: 'ERR_UNKNOWN_ANALYZER' });
    }
  });
});

describe('Counters', () => {
  it('counts by name and snapshots sorted', () => {
    const c = new Counters();
    c.inc('tcp.b');
    c.inc('ipv4.a', 3);
    c.inc('tcp.b');
    expect(c.get('tcp.b')).toBe(2);
    expect(c.get('never')).toBe(0);
    expect(Object.keys(c.snapshot())).toEqual(['ipv4.a', 'tcp.b']);
    expect(c.snapshot()).toEqual({ 'ipv4.a': 3, 'tcp.b': 2 });
    c.reset();
    expect(c.snapshot()).toEqual({});
  });
});
