import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeFrame } from '../../opennap/codec.js';
import { FrameScanner, FrameVerdict, type FrameSink } from './frame-scanner.js';

/** Type the test sink rejects; even types are kept, odd ones skipped. */
const BAD = 9999;

interface Seen {
  type: number;
  data: Buffer | null;
}

function sink(seen: Seen[], headers: number[]): FrameSink {
  return {
    frameHeader(type) {
      headers.push(type);
      if (type === BAD) return FrameVerdict.reject;
      return type % 2 === 0 ? FrameVerdict.keep : FrameVerdict.skip;
    },
    // Copy: the bytes are only valid during the call.
    frame: (type, buf, start, end) => void seen.push({ type, data: buf === null ? null : Buffer.from(buf.subarray(start, end)) }),
  };
}

/** Cuts `bytes` at the given fractions of its length. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    if (to > from) out.push(bytes.subarray(from, to));
    from = Math.max(from, to);
  }
  return out;
}

const frameArb = fc.record({ type: fc.integer({ min: 0, max: 300 }), data: fc.uint8Array({ maxLength: 300 }) });

describe('FrameScanner', () => {
  it('delivers every frame of any chunking, kept frames with their bytes, skipped ones counted', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 40 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }), (frames, cuts) => {
        const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.type, Buffer.from(f.data))));
        const seen: Seen[] = [];
        const scanner = new FrameScanner();
        const s = sink(seen, []);
        // Each chunk is copied and then overwritten after push, as the capture reuses its buffer.
        for (const c of chunked(bytes, cuts)) {
          const reused = Buffer.from(c);
          expect(scanner.push(reused, s)).toBeNull();
          reused.fill(0xee);
        }
        expect(seen.map((x) => x.type)).toEqual(frames.map((f) => f.type));
        seen.forEach((x, i) => {
          const want = Buffer.from(frames[i]!.data);
          if (frames[i]!.type % 2 === 0) expect(x.data).toEqual(want);
          else if (x.data !== null) expect(x.data).toEqual(want);
        });
        expect(scanner.buffered).toBe(0);
      }),
    );
  });

  it('scans a span of a larger buffer as it scans those bytes alone, also when a header is rejected', () => {
    const arb = fc.array(fc.oneof({ weight: 9, arbitrary: frameArb }, { weight: 1, arbitrary: fc.constant({ type: BAD, data: new Uint8Array(2) }) }), { maxLength: 30 });
    // Chunk sizes from 1 byte up, cycled: frames span several chunks, as segments of a stream do.
    const sizesArb = fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(arb, sizesArb, fc.uint8Array({ minLength: 1, maxLength: 9 }), fc.uint8Array({ maxLength: 9 }), (frames, sizes, before, after) => {
        const bytes = Buffer.concat(frames.map((f) => encodeFrame(f.type, Buffer.from(f.data))));
        const alone = { scanner: new FrameScanner(), seen: [] as Seen[], headers: [] as number[], handed: [] as Buffer[] };
        const inSpan = { scanner: new FrameScanner(), seen: [] as Seen[], headers: [] as number[], handed: [] as Buffer[] };
        for (let off = 0, i = 0; off < bytes.length; i++) {
          const c = bytes.subarray(off, off + (sizes[i % sizes.length] ?? 1));
          off += c.length;
          const a = alone.scanner.push(Buffer.from(c), sink(alone.seen, alone.headers));
          if (a !== null) alone.handed.push(Buffer.from(a));
          // The same bytes between junk, as a reassembled segment lies in a capture buffer.
          const around = Buffer.concat([before, c, after]);
          const b = inSpan.scanner.push(around, sink(inSpan.seen, inSpan.headers), before.length, before.length + c.length);
          if (b !== null) inSpan.handed.push(Buffer.from(b));
          around.fill(0xee);
        }
        expect(inSpan.seen).toEqual(alone.seen);
        expect(inSpan.headers).toEqual(alone.headers);
        expect(inSpan.handed).toEqual(alone.handed);
        expect(inSpan.scanner.buffered).toBe(alone.scanner.buffered);
      }),
      { numRuns: 500 },
    );
  });

  it('holds only kept partial frames: a skipped frame split across chunks costs no buffered bytes', () => {
    const skipped = encodeFrame(201, Buffer.alloc(1000, 0x41));
    const scanner = new FrameScanner();
    const seen: Seen[] = [];
    expect(scanner.push(skipped.subarray(0, 500), sink(seen, []))).toBeNull();
    expect(scanner.buffered).toBe(0);
    expect(scanner.push(skipped.subarray(500), sink(seen, []))).toBeNull();
    expect(seen).toEqual([{ type: 201, data: null }]);

    const kept = encodeFrame(200, Buffer.alloc(1000, 0x42));
    expect(scanner.push(kept.subarray(0, 500), sink(seen, []))).toBeNull();
    expect(scanner.buffered).toBe(500);
    scanner.push(kept.subarray(500), sink(seen, []));
    expect(seen[1]).toEqual({ type: 200, data: Buffer.alloc(1000, 0x42) });
  });

  it('returns the bytes from a rejected header on, even when that header was split, and resets', () => {
    const good = encodeFrame(2, 'abc');
    const bad = encodeFrame(BAD, 'zz');
    const tail = Buffer.from('rest of the stream');
    const stream = Buffer.concat([good, bad, tail]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const scanner = new FrameScanner();
      const seen: Seen[] = [];
      const headers: number[] = [];
      const s = sink(seen, headers);
      const first = scanner.push(stream.subarray(0, cut), s);
      const rest = first ?? scanner.push(stream.subarray(cut), s);
      // Once rejected, what was not scanned is handed back whole (the caller resynchronises on it).
      const handedBack = first !== null ? Buffer.concat([first, stream.subarray(cut)]) : rest;
      expect(handedBack).toEqual(stream.subarray(good.length));
      expect(seen).toEqual([{ type: 2, data: Buffer.from('abc') }]);
      expect(scanner.buffered).toBe(0);
    }
  });

  it('reset() drops a partial frame and a pending skip', () => {
    const scanner = new FrameScanner();
    const seen: Seen[] = [];
    scanner.push(encodeFrame(201, Buffer.alloc(100)).subarray(0, 10), sink(seen, []));
    scanner.reset();
    scanner.push(encodeFrame(4, 'x'), sink(seen, []));
    expect(seen).toEqual([{ type: 4, data: Buffer.from('x') }]);
  });
});
