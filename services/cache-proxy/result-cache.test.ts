import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../opennap/codec.js';
import { cachedResultFromPayload } from './cached-result.js';
import type { CachedResult } from './cached-result.js';
import { CACHED_RESULT_OVERHEAD_BYTES } from './limits.js';
import { ResultCache, entryBytes } from './result-cache.js';

function result(nick: string, name: string): CachedResult {
  const r = cachedResultFromPayload(Buffer.from(`"${name}" 0123456789abcdef0123456789abcdef 1000 128 44100 200 ${nick} 16777343 4`, 'latin1'));
  if (r.kind !== 'ok') throw new Error('bad test result');
  return r.result;
}

const limits = { ttlMs: 1000, maxEntries: 3, maxBytes: 1_000_000 };

describe('ResultCache', () => {
  it('serves an entry until more than the TTL has passed, then removes it and counts it', () => {
    const c = new ResultCache(limits);
    expect(c.put('k', [result('a', 'x.mp3')], 100, 100)).toBe('stored');
    expect(c.get('k', 1100)?.results).toHaveLength(1); // exactly T old: still fresh
    expect(c.get('k', 1101)).toBeUndefined();
    expect(c.expired).toBe(1);
    expect(c.size).toBe(0);
    expect(c.bytes).toBe(0);
  });

  it('sweeps expired entries without being asked for them', () => {
    const c = new ResultCache(limits);
    c.put('old', [], 0, 0);
    c.put('new', [], 900, 900);
    expect(c.sweep(1500)).toBe(1);
    expect(c.has('new', 1500)).toBe(true);
    expect(c.has('old', 1500)).toBe(false);
    expect(c.expired).toBe(1);
  });

  it('evicts the least recently used entry beyond the entry cap', () => {
    const c = new ResultCache(limits);
    for (const k of ['a', 'b', 'c']) c.put(k, [], 0, 0);
    c.get('a', 1); // a is now most recently used; b is the oldest
    c.put('d', [], 1, 1);
    expect(c.evictions).toBe(1);
    expect(c.has('b', 1)).toBe(false);
    expect(['a', 'c', 'd'].every((k) => c.has(k, 1))).toBe(true);
  });

  it('still evicts when every entry was used (second chance ends), never the new one', () => {
    const c = new ResultCache(limits);
    for (const k of ['a', 'b', 'c']) c.put(k, [], 0, 0);
    for (const k of ['a', 'b', 'c']) c.get(k, 0);
    expect(c.put('d', [], 0, 0)).toBe('stored');
    expect(c.size).toBe(3);
    expect(c.evictions).toBe(1);
    expect(c.has('a', 0)).toBe(false);
    expect(c.has('d', 0)).toBe(true);
  });

  it('evicts by bytes, refuses an entry larger than the cap, and accounts bytes exactly', () => {
    const one = [result('a', 'x.mp3')];
    const size = entryBytes('k1', one);
    expect(size).toBe(2 + one[0]!.frame.length + CACHED_RESULT_OVERHEAD_BYTES);
    const c = new ResultCache({ ttlMs: 1000, maxEntries: 100, maxBytes: size * 2 });
    c.put('k1', one, 0, 0);
    c.put('k2', one, 0, 0);
    expect(c.bytes).toBe(size * 2);
    c.put('k3', one, 0, 0);
    expect(c.evictions).toBe(1);
    expect(c.has('k1', 0)).toBe(false);
    expect(c.bytes).toBe(size * 2);
    const big = Array.from({ length: 10 }, (_, i) => result('a', `f${i}.mp3`));
    expect(c.put('big', big, 0, 0)).toBe('too_large');
    expect(c.size).toBe(2);
  });

  it.each([
    ['stale deposit', 0, 2000, 'stale'],
    ['older than the entry held', 400, 600, 'kept_newer'],
    ['newer than the entry held', 600, 600, 'replaced'],
  ] as const)('%s', (_name, ts, now, outcome) => {
    const c = new ResultCache(limits);
    c.put('k', [], 500, 500);
    expect(c.put('k', [result('b', 'y.mp3')], ts, now)).toBe(outcome);
  });

  it('keeps encoded frames byte for byte', () => {
    const payload = Buffer.from('"a b.mp3" 0 1 2 3 4 nick 1 0', 'latin1');
    const r = cachedResultFromPayload(payload);
    expect(r.kind === 'ok' && r.result.frame.equals(encodeFrame(201, payload))).toBe(true);
  });

  it('evicts as a queue with second chances would, whatever the puts, gets and expiries', () => {
    // The model: keys in order, oldest first; a put appends (a replaced key leaves its place); making
    // room takes the front: the new entry or a used one goes to the back unmarked, any other is evicted.
    const op = fc.oneof(
      fc.record({ op: fc.constant('put' as const), key: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ op: fc.constant('get' as const), key: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ op: fc.constant('expire' as const), key: fc.integer({ min: 0, max: 12 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.integer({ min: 1, max: 6 }), (ops, maxEntries) => {
        const ttlMs = 1000;
        const c = new ResultCache({ ttlMs, maxEntries, maxBytes: 1_000_000 });
        const model: { key: string; used: boolean; at: number }[] = [];
        let now = 10_000;
        let evictions = 0;
        for (const o of ops) {
          now++;
          const key = `k${o.key}`;
          const at = model.findIndex((m) => m.key === key);
          if (o.op === 'put') {
            expect(c.put(key, [], now, now)).toBe(at >= 0 ? 'replaced' : 'stored');
            if (at >= 0) model.splice(at, 1);
            const fresh = { key, used: false, at: now };
            model.push(fresh);
            while (model.length > maxEntries) {
              const front = model.shift()!;
              if (front === fresh || front.used) {
                front.used = false;
                model.push(front);
              } else {
                evictions++;
              }
            }
          } else if (o.op === 'get') {
            expect(c.get(key, now)?.key).toBe(at >= 0 ? key : undefined);
            if (at >= 0) model[at]!.used = true;
          } else if (at >= 0) {
            // An expired entry met by a get leaves from the middle of the order.
            expect(c.get(key, model[at]!.at + ttlMs + 1)).toBeUndefined();
            model.splice(at, 1);
          }
          expect(c.evictions).toBe(evictions);
          expect(c.size).toBe(model.length);
          for (const m of model) expect(c.peek(m.key)).toBeDefined();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never exceeds its caps and accounts bytes exactly, whatever the operations', () => {
    const pool = Array.from({ length: 6 }, (_, i) => result('n', `f${i}.mp3`));
    const op = fc.oneof(
      fc.record({ op: fc.constant('put' as const), key: fc.integer({ min: 0, max: 9 }), n: fc.integer({ min: 0, max: 6 }), ts: fc.integer({ min: 0, max: 3000 }) }),
      fc.record({ op: fc.constant('get' as const), key: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ op: fc.constant('sweep' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), fc.integer({ min: 1, max: 5 }), (ops, maxEntries) => {
        const maxBytes = entryBytes('k0', pool) * 2;
        const c = new ResultCache({ ttlMs: 1000, maxEntries, maxBytes });
        let now = 0;
        for (const o of ops) {
          now += 10;
          if (o.op === 'put') c.put(`k${o.key}`, pool.slice(0, o.n), now - (o.ts % 1500), now);
          else if (o.op === 'get') c.get(`k${o.key}`, now);
          else c.sweep(now);
          expect(c.size).toBeLessThanOrEqual(maxEntries);
          expect(c.bytes).toBeLessThanOrEqual(maxBytes);
          // The byte total is exactly the sum over the entries held.
          let sum = 0;
          let count = 0;
          for (let k = 0; k < 10; k++) {
            const e = c.peek(`k${k}`);
            if (e !== undefined) {
              sum += e.bytes;
              count++;
              expect(e.bytes).toBe(entryBytes(`k${k}`, e.results));
            }
          }
          expect(sum).toBe(c.bytes);
          expect(count).toBe(c.size);
        }
      }),
      { numRuns: 200 },
    );
  });
});
