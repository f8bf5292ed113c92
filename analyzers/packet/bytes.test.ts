// The unchecked reads agree with Buffer's checked ones wherever those are in range.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { i32be, u16be, u16le, u32be } from './bytes.js';

describe('unchecked byte reads', () => {
  it('equal Buffer.readUInt16BE/LE, readInt32BE and readUInt32BE at every in-range offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 64 }), fc.nat(), (bytes, at) => {
        const buf = Buffer.from(bytes);
        const o16 = at % (buf.length - 1);
        const o32 = at % (buf.length - 3);
        expect(u16be(buf, o16)).toBe(buf.readUInt16BE(o16));
        expect(u16le(buf, o16)).toBe(buf.readUInt16LE(o16));
        expect(i32be(buf, o32)).toBe(buf.readInt32BE(o32));
        expect(u32be(buf, o32)).toBe(buf.readUInt32BE(o32));
      }),
    );
  });
});
