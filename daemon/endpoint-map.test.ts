import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EndpointMap } from './endpoint-map.js';

describe('EndpointMap', () => {
  it('behaves as a map keyed by protocol, ip and port', () => {
    const op = fc.record({
      del: fc.boolean(),
      protocol: fc.constantFrom('opennap', 'dht'),
      ip: fc.constantFrom('10.0.0.1', '10.0.0.2', '::1'),
      port: fc.constantFrom(0, 8888, 8889),
      value: fc.integer(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const m = new EndpointMap<number>();
        const model = new Map<string, number>();
        for (const o of ops) {
          const key = `${o.protocol} ${o.ip} ${o.port}`;
          if (o.del) expect(m.delete(o.protocol, o.ip, o.port)).toBe(model.delete(key));
          else {
            m.set(o.protocol, o.ip, o.port, o.value);
            model.set(key, o.value);
          }
          expect(m.size).toBe(model.size);
        }
        for (const [key, v] of model) {
          const [protocol, ip, port] = key.split(' ');
          expect(m.get(protocol!, ip!, Number(port))).toBe(v);
        }
        m.clear();
        expect(m.size).toBe(0);
        expect(m.get('opennap', '10.0.0.1', 8888)).toBeUndefined();
      }),
    );
  });
});
