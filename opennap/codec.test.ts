import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, encodeFrames, frameBytes, FrameDecoder, DEFAULT_MAX_DATA, HEADER_BYTES } from './codec.js';

function drain(decoder: FrameDecoder): { frames: { type: number; data: string }[]; last: string } {
  const frames: { type: number; data: string }[] = [];
  for (;;) {
    const r = decoder.next();
    if (r.kind === 'ok') frames.push({ type: r.frame.type, data: r.frame.data.toString('latin1') });
    else return { frames, last: r.kind };
  }
}

describe('decodeFrame', () => {
  it.each([
    ['empty', Buffer.alloc(0), { kind: 'incomplete', needed: 4 }],
    ['half header', Buffer.from([5, 0]), { kind: 'incomplete', needed: 2 }],
    ['header only', Buffer.from([3, 0, 200, 0]), { kind: 'incomplete', needed: 3 }],
  ])('%s', (_name, buf, expected) => {
    expect(decodeFrame(buf)).toEqual(expected);
  });

  it('decodes a login ack', () => {
    const r = decodeFrame(encodeFrame(3, 'anon@localhost'));
    expect(r.kind).toBe('ok');
    if (r.kind === 'ok') {
      expect(r.frame.type).toBe(3);
      expect(r.frame.data.toString()).toBe('anon@localhost');
      expect(r.consumed).toBe(HEADER_BYTES + 14);
    }
  });

  it('rejects a length above the maximum without waiting for the bytes', () => {
    const buf = Buffer.from([0xff, 0xff, 200, 0]);
    expect(decodeFrame(buf, 0, DEFAULT_MAX_DATA)).toEqual({ kind: 'error', code: 'frame_too_large', length: 65535, type: 200 });
  });

  it('encodes little-endian length and type', () => {
    expect([...encodeFrame(256, 'ab')]).toEqual([2, 0, 0, 1, 97, 98]);
  });

  it('keeps every byte value through latin1', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const r = decodeFrame(encodeFrame(100, all.toString('latin1')));
    expect(r.kind === 'ok' && r.frame.data.equals(all)).toBe(true);
  });
});

describe('FrameDecoder', () => {
  const frames = [
    { type: 2, data: 'nick pass 6699 "nap v0.8" 3' },
    { type: 202, data: '' },
    { type: 201, data: '"a b.mp3" 00 1 128 44100 60 nick 16777343 3' },
  ];
  const wire = encodeFrames(frames);

  it('gives the same frames for any split of the stream', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: wire.length }), { maxLength: 8 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const decoder = new FrameDecoder();
        const got: { type: number; data: string }[] = [];
        let prev = 0;
        for (const p of [...points, wire.length]) {
          decoder.push(wire.subarray(prev, p));
          prev = p;
          got.push(...drain(decoder).frames);
        }
        expect(got).toEqual(frames);
        expect(decoder.buffered).toBe(0);
      }),
    );
  });

  it('holds an error and stops decoding after an oversize length', () => {
    const decoder = new FrameDecoder(16);
    decoder.push(Buffer.concat([encodeFrame(1, 'ok'), Buffer.from([100, 0, 1, 0])]));
    const { frames: got, last } = drain(decoder);
    expect(got).toEqual([{ type: 1, data: 'ok' }]);
    expect(last).toBe('error');
    decoder.reset();
    decoder.push(encodeFrame(2, 'x'));
    expect(drain(decoder).frames).toEqual([{ type: 2, data: 'x' }]);
  });

  it('never throws and stays bounded on random bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const decoder = new FrameDecoder(64);
        for (const c of chunks) {
          decoder.push(Buffer.from(c));
          const { last } = drain(decoder);
          if (last === 'incomplete') expect(decoder.buffered).toBeLessThan(HEADER_BYTES + 64);
        }
      }),
    );
  });
});

describe('FrameDecoder with a reused input buffer (packet capture)', () => {
  it('keeps a frame split across two pushes intact when the caller overwrites its buffer', () => {
    const wire = encodeFrame(200, 'FILENAME CONTAINS "rock" MAX_RESULTS 100');
    const shared = Buffer.alloc(64);
    const decoder = new FrameDecoder();
    const cut = 10;
    wire.copy(shared, 0, 0, cut);
    decoder.push(shared.subarray(0, cut));
    expect(decoder.next().kind).toBe('incomplete');
    shared.fill(0xee); // the capture reuses its buffer for the next packet
    wire.copy(shared, 0, cut);
    decoder.push(shared.subarray(0, wire.length - cut));
    const r = decoder.next();
    expect(r.kind === 'ok' && r.frame.data.toString()).toBe('FILENAME CONTAINS "rock" MAX_RESULTS 100');
  });
});

describe('frameBytes', () => {
  it('gives back the received frame, header included, without copying', () => {
    const wire = encodeFrames([{ type: 205, data: 'bob hi' }, { type: 9999, data: 'opaque' }]);
    const decoder = new FrameDecoder();
    decoder.push(wire);
    const out: Buffer[] = [];
    for (let r = decoder.next(); r.kind === 'ok'; r = decoder.next()) out.push(frameBytes(r.frame.data));
    expect(Buffer.concat(out).equals(wire)).toBe(true);
    expect(out[0]!.buffer).toBe(wire.buffer);
  });
});
