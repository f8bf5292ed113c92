// pcap files on disk: PcapWriter.open → readPcapFile across chunk boundaries, tcpdump reads what
// we write, and file-level errors are named.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapFileError, PcapFormatError } from './errors.js';
import { LINKTYPE_ETHERNET } from './link-types.js';
import { readPcapFile, readPcapFileBytes } from './pcap-file.js';
import { PcapWriter } from './pcap-writer.js';
import { TCP_ACK, TCP_PSH, tcpFrame, udpFrame } from './test-frames.js';

const dir = mkdtempSync(join(tmpdir(), 'arcap-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sampleFrames(n: number): { frame: Buffer; ts: number }[] {
  return Array.from({ length: n }, (_, i) => ({
    frame:
      i % 2 === 0
        ? tcpFrame('10.9.0.2', 40000 + (i % 100), '10.9.0.1', 8888, TCP_ACK | TCP_PSH, Buffer.alloc(i % 700, i & 0xff))
        : udpFrame('fd00::2', 6881, 'fd00::1', 6881, Buffer.alloc(i % 90, 1)),
    ts: 1_700_000_000_000 + i * 0.25,
  }));
}

describe('pcap files', () => {
  for (const precision of ['us', 'ns'] as const) {
    it(`writes and reads back ${precision} files across read chunks`, async () => {
      const path = join(dir, `rt-${precision}.pcap`);
      const frames = sampleFrames(1000);
      const w = PcapWriter.open(path, { linkType: LINKTYPE_ETHERNET, precision, bufferBytes: 4096 });
      for (const f of frames) w.write(f.frame, f.ts);
      w.close();
      const got: { frame: Buffer; ts: number; iface: string; linkType: number }[] = [];
      const result = await readPcapFile(path, (linkType, frame, ts, iface) => got.push({ frame: Buffer.from(frame), ts, iface, linkType }), {
        chunkBytes: 1000,
      });
      expect(result).toMatchObject({ kind: 'complete', format: 'pcap', frames: frames.length });
      expect(got.map((g) => g.frame)).toEqual(frames.map((f) => f.frame));
      got.forEach((g, i) => expect(g.ts).toBeCloseTo(frames[i]?.ts ?? 0, 3));
      expect(new Set(got.map((g) => `${g.iface}/${g.linkType}`))).toEqual(new Set([`${path}#0/1`]));
    });
  }

  it('readPcapFileBytes hands on the same frames as offsets into its read buffer, plain and gzip', async () => {
    const frames = sampleFrames(600);
    const path = join(dir, 'bytes.pcap');
    const w = PcapWriter.open(path, { linkType: LINKTYPE_ETHERNET, precision: 'us' });
    for (const f of frames) w.write(f.frame, f.ts);
    w.close();
    const gz = join(dir, 'bytes.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(path)));
    for (const file of [path, gz]) {
      const views: { frame: Buffer; ts: number; iface: string }[] = [];
      const viewResult = await readPcapFile(file, (_l, frame, ts, iface) => views.push({ frame: Buffer.from(frame), ts, iface }), { chunkBytes: 777 });
      const spans: { frame: Buffer; ts: number; iface: string }[] = [];
      const buffers = new Set<ArrayBufferLike>();
      const spanResult = await readPcapFileBytes(
        file,
        (_l, bytes, start, end, ts, iface) => {
          expect(0 <= start && start <= end && end <= bytes.length).toBe(true);
          buffers.add(bytes.buffer);
          spans.push({ frame: Buffer.from(bytes.subarray(start, end)), ts, iface });
        },
        { chunkBytes: 777 },
      );
      expect(spanResult).toEqual(viewResult);
      expect(spans).toEqual(views);
      expect(spans.map((s) => s.frame)).toEqual(frames.map((f) => f.frame));
      // Records lie in the reader's buffers, not in a buffer each.
      expect(buffers.size).toBeLessThan(spans.length / 10);
    }
  });

  it('tcpdump reads the files PcapWriter writes, record for record', () => {
    const path = join(dir, 'tcpdump.pcap');
    const frames = sampleFrames(50);
    const w = PcapWriter.open(path, { linkType: LINKTYPE_ETHERNET, precision: 'ns' });
    for (const f of frames) w.write(f.frame, f.ts);
    w.close();
    const out = execFileSync('tcpdump', ['-nn', '-r', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = out.trim().split('\n');
    expect(lines.length).toBe(50);
    expect(lines[0]).toContain('10.9.0.2.40000 > 10.9.0.1.8888');
    expect(lines[1]).toContain('fd00::2.6881 > fd00::1.6881');
  });

  it('a truncated file delivers every complete record and reports truncated', async () => {
    const path = join(dir, 'cut.pcap');
    const frames = sampleFrames(100);
    const w = PcapWriter.open(path, { linkType: LINKTYPE_ETHERNET });
    for (const f of frames) w.write(f.frame, f.ts);
    w.close();
    const whole = readFileSync(path);
    writeFileSync(path, whole.subarray(0, whole.length - 5));
    let n = 0;
    const result = await readPcapFile(path, () => n++, { chunkBytes: 333 });
    expect(n).toBe(99);
    expect(result).toMatchObject({ kind: 'truncated', frames: 99, stop: { event: 'pcap.truncated_record' } });
  });

  it('missing file → PcapFileError; not a capture → PcapFormatError', async () => {
    await expect(readPcapFile(join(dir, 'nope.pcap'), () => {})).rejects.toBeInstanceOf(PcapFileError);
    const txt = join(dir, 'text.pcap');
    writeFileSync(txt, 'this is not a capture file\n');
    await expect(readPcapFile(txt, () => {})).rejects.toMatchObject({ name: 'PcapFormatError', code: 'PCAP_BAD_MAGIC' });
    await expect(readPcapFile(txt, () => {})).rejects.toBeInstanceOf(PcapFormatError);
    expect(() => PcapWriter.open(join(dir, 'no/such/dir.pcap'), { linkType: 1 })).toThrow(PcapFileError);
  });
});

describe('gzip-compressed pcap files', () => {
  /** A pcap file of `n` sample frames, as bytes, and the frames. */
  function pcapBytes(name: string, n: number): { bytes: Buffer; frames: Buffer[] } {
    const path = join(dir, name);
    const frames = sampleFrames(n);
    const w = PcapWriter.open(path, { linkType: LINKTYPE_ETHERNET });
    for (const f of frames) w.write(f.frame, f.ts);
    w.close();
    return { bytes: readFileSync(path), frames: frames.map((f) => f.frame) };
  }

  /** Frame by frame byte equality (a deep toEqual of thousands of Buffers takes seconds). */
  function sameFrames(a: readonly Buffer[], b: readonly Buffer[]): boolean {
    return a.length === b.length && a.every((f, i) => f.equals(b[i]!));
  }

  async function readAll(path: string): Promise<{ got: Buffer[]; result: Awaited<ReturnType<typeof readPcapFile>> }> {
    const got: Buffer[] = [];
    const result = await readPcapFile(path, (_l, frame) => got.push(Buffer.from(frame)));
    return { got, result };
  }

  it('reads a .pcap.gz as the pcap it holds, also made of concatenated gzip members', async () => {
    // Enough frames that records span the decompressor's output chunks.
    const { bytes, frames } = pcapBytes('gz-src.pcap', 6000);
    const whole = join(dir, 'whole.pcap.gz');
    writeFileSync(whole, gzipSync(bytes));
    const a = await readAll(whole);
    expect(a.result).toMatchObject({ kind: 'complete', format: 'pcap', frames: frames.length });
    expect(sameFrames(a.got, frames)).toBe(true);
    // `cat first.gz second.gz`, split in the middle of a record.
    const cut = Math.floor(bytes.length / 2) + 3;
    const members = join(dir, 'members.pcap.gz');
    writeFileSync(members, Buffer.concat([gzipSync(bytes.subarray(0, cut)), gzipSync(bytes.subarray(cut))]));
    const b = await readAll(members);
    expect(b.result).toMatchObject({ kind: 'complete', frames: frames.length });
    expect(sameFrames(b.got, frames)).toBe(true);
  });

  it('a gzip file cut short delivers what came before the cut and reports gzip.truncated', async () => {
    const { bytes, frames } = pcapBytes('gz-cut.pcap', 3000);
    const packed = gzipSync(bytes);
    const path = join(dir, 'cut.pcap.gz');
    writeFileSync(path, packed.subarray(0, Math.floor(packed.length * 0.6)));
    const { got, result } = await readAll(path);
    expect(result.kind).toBe('truncated');
    expect(result.events['gzip.truncated']).toBe(1);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(frames.length);
    expect(sameFrames(got, frames.slice(0, got.length))).toBe(true);
  });

  it('damaged deflate data ends the read as corrupt, with no exception', async () => {
    const header = gzipSync(Buffer.alloc(0)).subarray(0, 10);
    const path = join(dir, 'damaged.pcap.gz');
    // Block type 3 is reserved in deflate (RFC 1951): the decompressor stops with a data error.
    writeFileSync(path, Buffer.concat([header, Buffer.from([0x07, 0xff, 0xff, 0xff])]));
    const { result } = await readAll(path);
    expect(result.kind).toBe('corrupt');
    expect(result.events['gzip.corrupt']).toBe(1);
  });

  it('gzip around something else is not a capture; other compressors are named', async () => {
    const text = join(dir, 'text.gz');
    writeFileSync(text, gzipSync(Buffer.from('this is not a capture file\n')));
    await expect(readPcapFile(text, () => {})).rejects.toBeInstanceOf(PcapFormatError);
    await expect(readPcapFile(text, () => {})).rejects.toThrow(/in the decompressed gzip data/);
    const xz = join(dir, 'capture.pcap.xz');
    writeFileSync(xz, Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04]));
    await expect(readPcapFile(xz, () => {})).rejects.toThrow(/xz-compressed: decompress it first \(xz -dk\)/);
  });
});
