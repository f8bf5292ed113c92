import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OP_SLOTS, decodeOps, encodeOps } from './op-codec.js';
import type { RowOp } from './row-ops.js';

const server = { ip: '10.0.0.1', port: 8888 };
const client = { ip: '10.0.0.2', port: 4000 };
const base = { protocol: 'opennap', server, ts: 1.5 };

const EVERY_KIND: RowOp[] = [
  { op: 'server', ...base, learnt: null },
  { op: 'server', ...base, learnt: 'policy' },
  { op: 'query', ...base, client, seq: 3, keywords: '["a"]', maxResults: null, firstResponseTs: null, doneTs: null, results: null },
  { op: 'query', ...base, client, seq: 4, keywords: '["a"]', maxResults: 10, firstResponseTs: 2.5, doneTs: 3.75, results: 0 },
  { op: 'first_response', ...base, client, seq: 3, queryTs: 1.25 },
  { op: 'query_done', ...base, client, seq: 3, queryTs: 1.25, results: 7, keywords: '[]' },
  { op: 'session_open', ...base, client, nick: null, files: null, lastSeen: 1.5 },
  { op: 'session_open', ...base, client, nick: 'bob', files: 3, lastSeen: 4.25 },
  { op: 'session_close', ...base, client },
  { op: 'session_update', ...base, client, nick: 'alice', files: null, lastSeen: 1.5 },
  { op: 'session_update', ...base, client, nick: null, files: 12, lastSeen: 2 },
  { op: 'metric_window', serverId: 2, ts: 9, windowMs: 1000, rtAvgMs: 1.5, rtP50Ms: null, rtP99Ms: 3, qrAvg: null, queries: 4, answered: 3 },
];

describe('op codec', () => {
  it('round-trips every kind of op, sending each distinct string once', () => {
    const encoded = encodeOps(EVERY_KIND);
    expect(encoded.nums.length).toBe(EVERY_KIND.length * OP_SLOTS);
    expect(encoded.strs.sort()).toEqual(['10.0.0.1', '10.0.0.2', '["a"]', '[]', 'alice', 'bob', 'opennap', 'policy'].sort());
    expect(decodeOps(encodeOps(EVERY_KIND))).toEqual(EVERY_KIND);
  });

  it('round-trips arbitrary query ops', () => {
    const ip = fc.ipV4();
    const op = fc.record({
      op: fc.constant('query' as const),
      protocol: fc.string({ minLength: 1, maxLength: 8 }),
      server: fc.record({ ip, port: fc.integer({ min: 0, max: 65535 }) }),
      ts: fc.double({ noNaN: true, noDefaultInfinity: true }),
      client: fc.record({ ip, port: fc.integer({ min: 0, max: 65535 }) }),
      seq: fc.nat(),
      keywords: fc.json(),
      maxResults: fc.option(fc.nat(), { nil: null }),
      firstResponseTs: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
      doneTs: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
      results: fc.option(fc.nat(), { nil: null }),
    });
    fc.assert(fc.property(fc.array(op, { maxLength: 20 }), (ops) => void expect(decodeOps(encodeOps(ops))).toEqual(ops)));
  });

  it('refuses a batch that names a string it does not carry', () => {
    const encoded = encodeOps([EVERY_KIND[2] as RowOp]);
    expect(() => decodeOps({ ...encoded, strs: [] })).toThrow(RangeError);
  });
});
