// pcap/pcapng reader and pcap writer: round trips (property tests), chunking, byte orders,
// timestamp resolutions, truncation and corruption.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PCAPNG_EPB, PCAPNG_IDB, PCAPNG_SHB, PCAPNG_SPB, splitTimestamp } from './pcap-format.js';
import type { TsPrecision } from './pcap-format.js';
import { PcapStreamReader } from './pcap-reader.js';
import type { PcapReadResult } from './pcap-reader.js';
import { MemoryPcapOutput, PcapWriter } from './pcap-writer.js';

interface Rec {
  linkType: number;
  frame: Buffer;
  ts: number;
  origLen: number;
  ifIndex: number;
}

/** Feeds `file` in chunks of the given sizes (cycling), collecting records (copied: frames are views). */
function readAll(file: Buffer, chunkSizes: number[] = [file.length || 1]): { recs: Rec[]; result: PcapReadResult } {
  const recs: Rec[] = [];
  const reader = new PcapStreamReader((linkType, bytes, start, end, ts, origLen, ifIndex) => {
    recs.push({ linkType, frame: Buffer.from(bytes.subarray(start, end)), ts, origLen, ifIndex });
  });
  let off = 0;
  let i = 0;
  while (off < file.length) {
    const n = Math.max(1, chunkSizes[i++ % chunkSizes.length] ?? 1);
    // Copy into a scratch buffer that is overwritten afterwards, like a reused read buffer.
    const scratch = Buffer.from(file.subarray(off, off + n));
    reader.push(scratch);
    scratch.fill(0xee);
    off += n;
  }
  return { recs, result: reader.end() };
}

function writeAll(frames: { frame: Buffer; ts: number }[], precision: TsPrecision, bufferBytes?: number): Buffer {
  const out = new MemoryPcapOutput();
  const w = new PcapWriter(out, { linkType: 1, precision, ...(bufferBytes ? { bufferBytes } : {}) });
  for (const f of frames) w.write(f.frame, f.ts);
  w.close();
  expect(out.closed).toBe(true);
  return out.contents();
}

const arbFrames = fc.array(
  fc.record({
    frame: fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a)),
    sec: fc.integer({ min: 0, max: 0xffffffff }),
    usec: fc.integer({ min: 0, max: 999_999 }),
  }),
  { maxLength: 40 },
);

describe('classic pcap round trip', () => {
  it('random frames and µs timestamps come back exactly, however the file is chunked', () => {
    fc.assert(
      fc.property(arbFrames, fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 }), (frames, chunks) => {
        const input = frames.map((f) => ({ frame: f.frame, ts: f.sec * 1000 + f.usec / 1000 }));
        const file = writeAll(input, 'us', 64);
        const { recs, result } = readAll(file, chunks);
        expect(result.kind).toBe('complete');
        expect(result.format).toBe('pcap');
        expect(result.frames).toBe(frames.length);
        expect(recs.map((r) => r.frame)).toEqual(input.map((f) => f.frame));
        expect(recs.map((r) => r.ts)).toEqual(input.map((f) => f.ts));
        expect(recs.every((r, i) => r.linkType === 1 && r.origLen === input[i]?.frame.length)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('ns timestamps keep whole seconds exactly and the fraction to double precision', () => {
    // The counterexample CI found (seed 650647708): the last second, whose double rounds up to the next.
    const edge = 4294967295 * 1000 + 999999756 / 1e6;
    const back = readAll(writeAll([{ frame: Buffer.from([1, 2, 3]), ts: edge }], 'ns')).recs[0]?.ts ?? NaN;
    expect(splitTimestamp(back, 'ns').sec).toBe(0xffffffff);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 999_999_999 }), (sec, nsec) => {
        const ts = sec * 1000 + nsec / 1e6;
        const { recs } = readAll(writeAll([{ frame: Buffer.from([1, 2, 3]), ts }], 'ns'));
        const got = recs[0]?.ts ?? NaN;
        // A double near 4.3e12 ms resolves ~1 µs; the format itself resolves 1 ns.
        expect(Math.abs(got - ts)).toBeLessThanOrEqual(Math.max(1e-6, Math.abs(ts) * 2 ** -50));
        // The format's last second is 0xffffffff: a time the double rounds past it is clamped to it.
        expect(splitTimestamp(got, 'ns').sec).toBe(Math.min(0xffffffff, Math.floor(got / 1000)));
      }),
    );
  });

  it('a file cut anywhere delivers exactly the records that are complete, and says truncated', () => {
    fc.assert(
      fc.property(arbFrames, fc.nat(), (frames, cutSeed) => {
        const input = frames.map((f) => ({ frame: f.frame, ts: f.sec * 1000 + f.usec / 1000 }));
        const file = writeAll(input, 'us');
        const cut = cutSeed % (file.length + 1);
        // Expected: the records whose last byte is before the cut; complete only when cut on a record boundary.
        let off = 24;
        let complete = 0;
        const boundaries = new Set([24]);
        for (const f of input) {
          off += 16 + f.frame.length;
          boundaries.add(off);
          if (off <= cut) complete++;
        }
        const { recs, result } = readAll(file.subarray(0, cut), [97]);
        expect(recs.length).toBe(cut < 24 ? 0 : complete);
        expect(recs.map((r) => r.frame)).toEqual(input.slice(0, recs.length).map((f) => f.frame));
        expect(result.kind).toBe(boundaries.has(cut) ? 'complete' : 'truncated');
      }),
      { numRuns: 200 },
    );
  });

  it('random bytes never throw and never deliver more bytes than they contain', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.boolean(), (bytes, asPcap) => {
        const body = Buffer.from(bytes);
        // Half the time behind a valid header, so the record parser sees the garbage.
        const file = asPcap ? Buffer.concat([writeAll([], 'us'), body]) : body;
        const { result } = readAll(file, [13, 200]);
        expect(result.bytes).toBeLessThanOrEqual(file.length);
        expect(['complete', 'truncated', 'corrupt', 'not_pcap']).toContain(result.kind);
      }),
      { numRuns: 300 },
    );
  });

  it('reads big-endian files and the nanosecond magic', () => {
    const be = Buffer.alloc(24 + 16 + 4);
    be.writeUInt32BE(0xa1b23c4d, 0);
    be.writeUInt16BE(2, 4);
    be.writeUInt16BE(4, 6);
    be.writeUInt32BE(65535, 16);
    be.writeUInt32BE(101, 20);
    be.writeUInt32BE(1_700_000_000, 24);
    be.writeUInt32BE(500_000_000, 28);
    be.writeUInt32BE(4, 32);
    be.writeUInt32BE(60, 36);
    Buffer.from([0x45, 0, 0, 60]).copy(be, 40);
    const { recs, result } = readAll(be);
    expect(result).toMatchObject({ kind: 'complete', format: 'pcap', frames: 1 });
    expect(recs[0]).toMatchObject({ linkType: 101, ts: 1_700_000_000_500, origLen: 60, frame: Buffer.from([0x45, 0, 0, 60]) });
  });

  it('a record length beyond the bound is corruption: earlier records are kept', () => {
    const file = writeAll([{ frame: Buffer.from('ok'), ts: 1000 }], 'us');
    const bad = Buffer.alloc(16);
    bad.writeUInt32LE(0x7fffffff, 8);
    const { recs, result } = readAll(Buffer.concat([file, bad, Buffer.alloc(100)]));
    expect(recs.length).toBe(1);
    expect(result.kind).toBe('corrupt');
    expect(result.stop).toEqual({ event: 'pcap.record_too_large', offset: file.length });
    expect(result.events['pcap.record_too_large']).toBe(1);
  });

  it('unknown magic is not_pcap; a short header is truncated', () => {
    expect(readAll(Buffer.from('GET / HTTP/1.1\r\n\r\n')).result.kind).toBe('not_pcap');
    expect(readAll(writeAll([], 'us').subarray(0, 10)).result).toMatchObject({ kind: 'truncated', stop: { event: 'pcap.truncated_file_header' } });
  });

  it('the writer cuts frames to its snap length and keeps the original length', () => {
    const out = new MemoryPcapOutput();
    const w = new PcapWriter(out, { linkType: 1, snaplen: 10 });
    w.write(Buffer.alloc(50, 7), 1234.5);
    w.close();
    expect(w.stats).toEqual({ frames: 1, bytes: 10, truncated: 1 });
    const { recs } = readAll(out.contents());
    expect(recs[0]).toMatchObject({ frame: Buffer.alloc(10, 7), origLen: 50, ts: 1234.5 });
    expect(() => w.write(Buffer.alloc(1), 0)).toThrow(/after close/);
  });
});

// ---- pcapng ----

function block(type: number, body: Buffer, le = true): Buffer {
  const len = 12 + ((body.length + 3) & ~3);
  const b = Buffer.alloc(len);
  if (le) {
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(len, 4);
    b.writeUInt32LE(len, len - 4);
  } else {
    b.writeUInt32BE(type, 0);
    b.writeUInt32BE(len, 4);
    b.writeUInt32BE(len, len - 4);
  }
  body.copy(b, 8);
  return b;
}

function u32(n: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(n >>> 0);
  else b.writeUInt32BE(n >>> 0);
  return b;
}

function u16(n: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(n);
  else b.writeUInt16BE(n);
  return b;
}

function shb(le = true): Buffer {
  return block(PCAPNG_SHB, Buffer.concat([u32(0x1a2b3c4d, le), u16(1, le), u16(0, le), Buffer.alloc(8, 0xff)]), le);
}

function option(code: number, value: Buffer, le: boolean): Buffer {
  const pad = Buffer.alloc((4 - (value.length % 4)) % 4);
  return Buffer.concat([u16(code, le), u16(value.length, le), value, pad]);
}

function idb(linkType: number, opts: { tsresol?: number; name?: string; offsetSec?: number } = {}, le = true): Buffer {
  const parts = [u16(linkType, le), u16(0, le), u32(0, le)];
  if (opts.name !== undefined) parts.push(option(2, Buffer.from(opts.name), le));
  if (opts.tsresol !== undefined) parts.push(option(9, Buffer.from([opts.tsresol]), le));
  if (opts.offsetSec !== undefined) {
    const v = Buffer.alloc(8);
    if (le) v.writeBigInt64LE(BigInt(opts.offsetSec));
    else v.writeBigInt64BE(BigInt(opts.offsetSec));
    parts.push(option(14, v, le));
  }
  parts.push(u32(0, le)); // opt_endofopt
  return block(PCAPNG_IDB, Buffer.concat(parts), le);
}

function epb(ifIndex: number, units: bigint, data: Buffer, le = true, origLen = data.length): Buffer {
  const hi = Number(units >> 32n);
  const lo = Number(units & 0xffffffffn);
  return block(PCAPNG_EPB, Buffer.concat([u32(ifIndex, le), u32(hi, le), u32(lo, le), u32(data.length, le), u32(origLen, le), data]), le);
}

describe('pcapng', () => {
  it('reads EPBs of two interfaces with their own link types, resolutions, names and offsets', () => {
    const file = Buffer.concat([
      shb(),
      idb(1, { name: 'eth0' }), // default µs
      idb(101, { tsresol: 9, offsetSec: 10 }), // ns, +10 s
      epb(0, 1_700_000_000_123_456n, Buffer.from('abc')),
      epb(1, 5_000_000_001n, Buffer.from('defgh'), true, 1500),
      block(4, Buffer.alloc(8)), // NRB: skipped
    ]);
    for (const chunks of [[file.length], [1], [7, 33]]) {
      const { recs, result } = readAll(file, chunks);
      expect(result).toMatchObject({ kind: 'complete', format: 'pcapng', frames: 2 });
      expect(result.events['pcapng.skipped_block']).toBe(1);
      expect(recs[0]).toMatchObject({ linkType: 1, ifIndex: 0, frame: Buffer.from('abc') });
      expect(recs[0]?.ts).toBeCloseTo(1_700_000_000_123.456, 3);
      expect(recs[1]).toMatchObject({ linkType: 101, ifIndex: 1, frame: Buffer.from('defgh'), origLen: 1500 });
      expect(recs[1]?.ts).toBeCloseTo(15_000.000001, 6);
    }
  });

  it('reads big-endian sections, binary tsresol, SPBs, and a second section resets interfaces', () => {
    const spbBody = Buffer.concat([u32(4, false), Buffer.from('wxyz')]);
    const file = Buffer.concat([
      shb(false),
      idb(1, { tsresol: 0x80 | 10 }, false), // 2^-10 s units
      epb(0, 2048n, Buffer.from('be'), false),
      block(PCAPNG_SPB, spbBody, false),
      shb(true),
      epb(0, 1n, Buffer.from('orphan')), // no IDB in the new section
      idb(113),
      epb(0, 3_000_000n, Buffer.from('le')),
    ]);
    const { recs, result } = readAll(file, [5]);
    expect(result.kind).toBe('complete');
    expect(recs.map((r) => r.frame.toString())).toEqual(['be', 'wxyz', 'le']);
    expect(recs[0]?.ts).toBe(2000);
    expect(recs[2]).toMatchObject({ linkType: 113, ts: 3000 });
    expect(result.events['pcapng.unknown_interface']).toBe(1);
    expect(result.events['pcapng.simple_packet_no_timestamp']).toBe(1);
  });

  it('a bad block length stops reading after the records before it', () => {
    const good = Buffer.concat([shb(), idb(1), epb(0, 1n, Buffer.from('one'))]);
    const bad = block(PCAPNG_EPB, Buffer.alloc(24));
    bad.writeUInt32LE(bad.length + 4, bad.length - 4); // trailer disagrees
    const { recs, result } = readAll(Buffer.concat([good, bad, epb(0, 2n, Buffer.from('two'))]));
    expect(recs.map((r) => r.frame.toString())).toEqual(['one']);
    expect(result).toMatchObject({ kind: 'corrupt', stop: { event: 'pcapng.block_length_mismatch', offset: good.length } });
  });

  it('random bytes after a valid section never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1500 }), fc.integer({ min: 1, max: 300 }), (bytes, chunk) => {
        const file = Buffer.concat([shb(), idb(1), Buffer.from(bytes)]);
        const { result } = readAll(file, [chunk]);
        expect(result.bytes).toBeLessThanOrEqual(file.length);
      }),
      { numRuns: 300 },
    );
  });

  it('a truncated pcapng file delivers the complete prefix', () => {
    const file = Buffer.concat([shb(), idb(1), epb(0, 1n, Buffer.from('one')), epb(0, 2n, Buffer.from('two'))]);
    const { recs, result } = readAll(file.subarray(0, file.length - 3));
    expect(recs.map((r) => r.frame.toString())).toEqual(['one']);
    expect(result).toMatchObject({ kind: 'truncated', stop: { event: 'pcapng.truncated_block' } });
  });
});
