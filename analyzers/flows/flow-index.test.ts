import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DecodedPacket } from '../packet/types.js';
import { FlowIndex, tupleHash, v4TupleOf } from './flow-index.js';
import { Flow, flowKeyOf } from './flow.js';

function packet(transport: 'tcp' | 'udp', src: number, srcPort: number, dst: number, dstPort: number, v6 = false): DecodedPacket {
  const text = (n: number): string => (v6 ? `2001:db8::${n.toString(16)}` : [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'));
  return {
    ts: 0, ipVersion: v6 ? 6 : 4, src: text(src), dst: text(dst), srcV4: v6 ? -1 : src, dstV4: v6 ? -1 : dst,
    transport, srcPort, dstPort, seq: 0, ack: 0, flags: 0, window: 0, bytes: Buffer.alloc(0), payloadStart: 0, payloadEnd: 0,
  };
}

function flowOf(p: DecodedPacket): Flow {
  const key = p.srcV4 < 0 ? flowKeyOf(p.transport, p.src, p.srcPort, p.dst, p.dstPort) : '';
  const f = new Flow(key, p.transport, p.src, p.srcPort, p.dst, p.dstPort, 0);
  if (p.srcV4 >= 0) f.v4 = v4TupleOf(p);
  return f;
}

const tupleArb = fc.record({
  udp: fc.boolean(),
  v6: fc.boolean(),
  // Few addresses and ports, so tuples repeat and hash chains form.
  a: fc.integer({ min: 0, max: 3 }).map((n) => (0x0a000000 + n) >>> 0),
  b: fc.constantFrom(0x0a000001, 0xc0a80001, 0xffffffff),
  ap: fc.integer({ min: 0, max: 5 }),
  bp: fc.constantFrom(0, 8888, 65535),
});

describe('FlowIndex', () => {
  it('finds a flow from either direction, by transport, and forgets removed flows (model: a Map by text key)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), tupleArb), { maxLength: 200 }), (ops) => {
        const index = new FlowIndex();
        const model = new Map<string, Flow>();
        for (const [add, t] of ops) {
          const p = packet(t.udp ? 'udp' : 'tcp', t.a, t.ap, t.b, t.bp, t.v6);
          const back = packet(t.udp ? 'udp' : 'tcp', t.b, t.bp, t.a, t.ap, t.v6);
          const key = `${t.v6 ? 6 : 4}${flowKeyOf(p.transport, p.src, p.srcPort, p.dst, p.dstPort)}`;
          const known = model.get(key);
          expect(index.find(p)).toBe(known);
          expect(index.find(back)).toBe(known);
          if (add && known === undefined) {
            const f = flowOf(p);
            index.add(f);
            model.set(key, f);
          } else if (!add && known !== undefined) {
            index.remove(known);
            model.delete(key);
          }
          expect(index.size).toBe(model.size);
        }
        expect(new Set(index.values())).toEqual(new Set(model.values()));
      }),
    );
  });

  it('keeps flows whose tuples share a hash apart (a chain), also when one in the middle is removed', () => {
    // Birthday search for three client ports whose tuples collide with each other (30-bit hash).
    const byHash = new Map<number, number[]>();
    let chain: number[] | undefined;
    for (let ip = 1; chain === undefined; ip++) {
      for (let port = 1024; port < 1030 && chain === undefined; port++) {
        const h = tupleHash(false, 0x0a000000 + ip, port, 0x0b000001, 8888);
        const list = byHash.get(h) ?? [];
        list.push(ip * 65536 + port);
        byHash.set(h, list);
        if (list.length === 2) chain = list;
      }
    }
    const packets = chain.map((x) => packet('tcp', 0x0a000000 + Math.floor(x / 65536), x % 65536, 0x0b000001, 8888));
    const index = new FlowIndex();
    const flows = packets.map((p) => flowOf(p));
    flows.forEach((f) => index.add(f));
    packets.forEach((p, i) => expect(index.find(p)).toBe(flows[i]));
    index.remove(flows[1]!);
    expect(index.find(packets[1]!)).toBeUndefined();
    expect(index.find(packets[0]!)).toBe(flows[0]);
    index.remove(flows[0]!);
    expect(index.size).toBe(0);
    expect([...index.values()]).toEqual([]);
  });
});
