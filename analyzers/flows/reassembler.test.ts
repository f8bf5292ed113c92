import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Direction } from '../analyzer.js';
import { Counters } from '../counters.js';
import { TcpFlag } from '../packet/types.js';
import type { ReassemblyEnv } from './reassembler.js';
import { Reassembler } from './reassembler.js';

/** A sink that records the stream as text with gaps marked `<gap N>`. */
function setup(opts: { maxPendingSegments?: number; budget?: number } = {}) {
  const out: string[] = [];
  const counters = new Counters();
  const env: ReassemblyEnv = {
    sink: {
      data: (_dir: Direction, bytes: Buffer, start: number, end: number) => {
        expect(end).toBeGreaterThan(start);
        out.push(bytes.toString('latin1', start, end));
      },
      gap: (_dir: Direction, length: number) => out.push(`<gap ${length}>`),
    },
    counters,
    budget: { used: 0, max: opts.budget ?? 1 << 20 },
    maxPendingSegments: opts.maxPendingSegments ?? 64,
  };
  const r = new Reassembler('toServer');
  // Each segment's payload lies between other bytes, as in a capture buffer: only [start, end) is its own.
  const push = (seq: number, data: string, flags: number = TcpFlag.ACK, allowance = 1 << 20) => {
    const bytes = Buffer.from(`##${data}##`, 'latin1');
    r.push(seq >>> 0, flags, bytes, 2, bytes.length - 2, 0, env, allowance);
  };
  return { r, out, counters, env, push, text: () => out.join('') };
}

describe('Reassembler', () => {
  it('delivers in-order data after the SYN (ISN + 1)', () => {
    const { push, text } = setup();
    push(100, '', TcpFlag.SYN);
    push(101, 'abc');
    push(104, 'def');
    expect(text()).toBe('abcdef');
  });

  it('starts mid-stream at the first segment seen', () => {
    const { push, text } = setup();
    push(5000, 'xyz');
    push(5003, '123');
    expect(text()).toBe('xyz123');
  });

  it('holds reordered segments until the hole fills', () => {
    const { push, out, counters, r } = setup();
    push(0, 'aa');
    push(4, 'cc');
    push(6, 'dd');
    expect(out).toEqual(['aa']);
    expect(r.bufferedBytes).toBe(4);
    push(2, 'bb');
    expect(out.join('')).toBe('aabbccdd');
    expect(r.bufferedBytes).toBe(0);
    expect(counters.get('reassembly.out_of_order')).toBe(2);
  });

  it('drops retransmissions and counts them', () => {
    const { push, text, counters } = setup();
    push(0, 'abcd');
    push(0, 'abcd');
    push(2, 'cd');
    push(4, 'ef');
    push(8, 'ij');
    push(8, 'ij');
    expect(text()).toBe('abcdef');
    expect(counters.get('reassembly.retransmitted')).toBe(3);
  });

  it('trims overlap with delivered data (first data wins)', () => {
    const { push, text, counters } = setup();
    push(0, 'abcd');
    push(2, 'XXef');
    expect(text()).toBe('abcdef');
    expect(counters.get('reassembly.overlap_trimmed')).toBe(1);
  });

  it('keeps held data over a later overlapping in-order segment (first data wins)', () => {
    const { push, text } = setup();
    push(0, 'ab');
    push(4, 'EF'); // held first
    push(2, 'cdXXgh'); // covers the held bytes with different content
    expect(text()).toBe('abcdEFgh');
  });

  it('keeps held data over a later overlapping out-of-order segment', () => {
    const { push, text } = setup();
    push(0, 'a');
    push(3, 'DE');
    push(2, 'cXXfg'); // in order, overlaps held DE
    push(10, 'k');
    push(7, 'hij');
    push(8, 'YYYY'); // covers held "ij", "k" and one new byte
    expect(text()).toBe('a');
    push(1, 'b');
    expect(text()).toBe('abcDEfghijkY');
  });

  it('handles sequence wrap-around', () => {
    const { push, text } = setup();
    const isn = 0xfffffffc;
    push(isn, 'abc'); // occupies ...fc, fd, fe
    push(isn + 6, 'ghi'); // wraps: 2, 3, 4
    push(isn + 3, 'def'); // ff, 0, 1
    expect(text()).toBe('abcdefghi');
  });

  it('reports the missing bytes before held data and before the FIN at flush', () => {
    const { push, out, r, env, counters } = setup();
    push(0, 'ab');
    push(5, 'fg');
    push(10, 'kl', TcpFlag.ACK | TcpFlag.FIN);
    expect(r.finSeen).toBe(true);
    expect(r.complete).toBe(false);
    r.flush(0, env);
    expect(out).toEqual(['ab', '<gap 3>', 'fg', '<gap 3>', 'kl']);
    expect(counters.get('reassembly.gap_at_end')).toBe(2);
    expect(env.budget.used).toBe(0);
  });

  it('reports a gap up to the FIN when the tail is lost', () => {
    const { push, out, r, env } = setup();
    push(0, 'ab');
    push(6, '', TcpFlag.ACK | TcpFlag.FIN);
    expect(r.complete).toBe(false);
    r.flush(0, env);
    expect(out).toEqual(['ab', '<gap 4>']);
  });

  it('is complete once everything up to the FIN arrived, in any order', () => {
    const { push, r } = setup();
    push(0, 'ab');
    push(4, 'ef', TcpFlag.ACK | TcpFlag.FIN);
    expect(r.complete).toBe(false);
    push(2, 'cd');
    expect(r.complete).toBe(true);
  });

  it('per-flow bound: declares the oldest hole lost, just enough to make room', () => {
    const { push, out, counters, r } = setup();
    push(0, 'a');
    push(3, 'dd', TcpFlag.ACK, 4);
    push(6, 'gg', TcpFlag.ACK, 4);
    expect(out).toEqual(['a']);
    push(9, 'jj', TcpFlag.ACK, 4); // 6 bytes would be held, allowance 4
    expect(out).toEqual(['a', '<gap 2>', 'dd']);
    expect(r.bufferedBytes).toBe(4);
    expect(counters.get('reassembly.gap_flow_bound')).toBe(1);
    push(5, 'f', TcpFlag.ACK, 4);
    expect(out.join('')).toBe('a<gap 2>ddfgg'); // jj still waits for byte 8
  });

  it('segment-count bound', () => {
    const { push, out, counters } = setup({ maxPendingSegments: 2 });
    push(0, 'a');
    push(2, 'c');
    push(4, 'e');
    push(6, 'g');
    expect(out).toEqual(['a', '<gap 1>', 'c']);
    expect(counters.get('reassembly.gap_segment_bound')).toBe(1);
  });

  it('total bound shared between reassemblers', () => {
    const a = setup({ budget: 4 });
    const b = new Reassembler('toClient');
    a.push(0, 'x');
    a.push(2, 'abc'); // holds 3 of 4
    b.push(0, TcpFlag.ACK, Buffer.from('y'), 0, 1, 0, a.env, 100);
    b.push(5, TcpFlag.ACK, Buffer.from('zz'), 0, 2, 0, a.env, 100); // would make 5 > 4: b skips its own hole
    expect(a.counters.get('reassembly.gap_total_bound')).toBe(1);
    expect(a.out).toEqual(['x', 'y', '<gap 4>', 'zz']);
    expect(a.env.budget.used).toBe(3);
    a.r.discard(a.env);
    expect(a.env.budget.used).toBe(0);
  });

  it('any order and duplication of a lossless stream yields the stream exactly', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 40 }),
        fc.oneof(fc.constant(0xffffff00), fc.integer({ min: 0, max: 0xffffffff })),
        fc.array(fc.nat(), { maxLength: 80 }),
        (data, sizes, isn, shuffle) => {
          const stream = Buffer.from(data);
          // Segments are spans of the stream buffer itself: [offset, end).
          const segs: [number, number][] = [];
          for (let off = 0, i = 0; off < stream.length; i++) {
            const len = sizes[i % sizes.length] ?? 1;
            segs.push([off, Math.min(off + len, stream.length)]);
            off += len;
          }
          // The first segment goes first (the start of the stream), the rest shuffled with duplicates.
          const rest = segs.slice(1);
          for (const n of shuffle) {
            const i = n % Math.max(1, rest.length);
            const j = (n >> 3) % Math.max(1, rest.length);
            if (rest.length > 1) [rest[i], rest[j]] = [rest[j]!, rest[i]!];
            if (n % 5 === 0 && rest.length > 0) rest.push(rest[i]!);
          }
          const got: Buffer[] = [];
          const env: ReassemblyEnv = {
            sink: { data: (_d, b, start, end) => got.push(Buffer.from(b.subarray(start, end))), gap: () => expect.fail('no gap expected') },
            counters: new Counters(),
            budget: { used: 0, max: 1 << 20 },
            maxPendingSegments: 1000,
          };
          const r = new Reassembler('toClient');
          for (const [off, end] of [segs[0]!, ...rest]) r.push((isn + off) >>> 0, TcpFlag.ACK, stream, off, end, 0, env, 1 << 20);
          expect(Buffer.concat(got)).toEqual(stream);
          expect(env.budget.used).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws and keeps its budget exact under random segments', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 200 })), {
          maxLength: 60,
        }),
        (segments) => {
          const env: ReassemblyEnv = {
            sink: { data: () => {}, gap: (_d, n) => expect(n).toBeGreaterThan(0) },
            counters: new Counters(),
            budget: { used: 0, max: 2000 },
            maxPendingSegments: 8,
          };
          const r = new Reassembler('toServer');
          const base = segments[0]?.[0] ?? 0;
          for (const [s, flags, len] of segments) {
            // Mostly near the start so segments interact, sometimes anywhere.
            const seq = s % 3 === 0 ? s : (base + (s % 1500)) >>> 0;
            r.push(seq, flags, Buffer.alloc(len, 0x61), 0, len, 0, env, 1000);
            expect(env.budget.used).toBe(r.bufferedBytes);
            expect(r.bufferedBytes).toBeLessThanOrEqual(1000);
          }
          r.flush(0, env);
          expect(env.budget.used).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
