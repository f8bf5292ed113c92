/**
 * Reads a pcap or pcapng file in large chunks and hands every frame to a
 * `FrameSink` as a view, or to a `FrameBytesSink` as offsets (the I/O edge
 * around the pure PcapStreamReader). Either way the bytes are those of a
 * reused read buffer: sinks must copy what they keep.
 * A gzip-compressed file (tcpdump rotations are often kept as .pcap.gz,
 * and Wireshark opens them as they are) is decompressed as it is read;
 * other compressors are named in the error, so the user knows what to run.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { PcapFileError, PcapFormatError } from './errors.js';
import type { FrameBytesSink, FrameSink } from './frame-sink.js';
import { PcapStreamReader } from './pcap-reader.js';
import type { PcapInterface, PcapReadResult } from './pcap-reader.js';

/**
 * Bytes per read(2). 4 MiB amortises the syscall and promise cost over tens
 * of thousands of records while keeping one reader's memory small.
 */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** Decompressed bytes per chunk of a gzip file: large enough to amortise the per-chunk cost, small next to the read chunk. */
export const GUNZIP_CHUNK_BYTES = 1024 * 1024;

/** Leading bytes of compressed files this reader does not open itself, for the error message. */
const COMPRESSED_MAGICS: readonly { magic: readonly number[]; name: string; command: string }[] = [
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: 'xz', command: 'xz -dk' },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], name: 'zstd', command: 'zstd -d' },
  { magic: [0x42, 0x5a, 0x68], name: 'bzip2', command: 'bzip2 -dk' },
  { magic: [0x50, 0x4b, 0x03, 0x04], name: 'zip', command: 'unzip' },
];

function startsWith(head: Buffer, magic: readonly number[]): boolean {
  return head.length >= magic.length && magic.every((b, i) => head[i] === b);
}

/** The not-pcap error, with the compressor named when the file starts like one. */
function formatError(path: string, head: Buffer, event: string, gzip: boolean): PcapFormatError {
  if (gzip) return new PcapFormatError(path, `${event} in the decompressed gzip data`);
  const packed = COMPRESSED_MAGICS.find((c) => startsWith(head, c.magic));
  return new PcapFormatError(path, packed === undefined ? event : `${event}; it looks ${packed.name}-compressed: decompress it first (${packed.command})`);
}

export interface ReadPcapOptions {
  chunkBytes?: number;
}

/**
 * Delivers every complete record of `path` to `onFrame` and resolves with how
 * the file ended. Truncation and mid-file corruption are reported in the
 * result (after all records before them were delivered); a missing file
 * rejects with PcapFileError, a file that is not pcap/pcapng with PcapFormatError.
 */
export async function readPcapFile(path: string, onFrame: FrameSink, options: ReadPcapOptions = {}): Promise<PcapReadResult> {
  return readPcapFileBytes(path, (linkType, bytes, start, end, ts, iface) => onFrame(linkType, bytes.subarray(start, end), ts, iface), options);
}

/** readPcapFile for a sink that takes each frame as offsets into the read buffer (no view per frame). */
export async function readPcapFileBytes(path: string, onFrame: FrameBytesSink, options: ReadPcapOptions = {}): Promise<PcapReadResult> {
  const names = new WeakMap<PcapInterface, string>();
  const reader: PcapStreamReader = new PcapStreamReader((linkType, bytes, start, end, ts, _origLen, ifIndex) => {
    const iface = reader.interfaces[ifIndex];
    let name = iface === undefined ? undefined : names.get(iface);
    if (name === undefined) {
      name = iface?.name ?? `${path}#${ifIndex}`;
      if (iface !== undefined) names.set(iface, name);
    }
    onFrame(linkType, bytes, start, end, ts, name);
  });
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new PcapFileError(path, `cannot open: ${(err as Error).message}`, err);
  }
  // The first bytes tell gzip from the rest, and name a compressor in the error when there is one.
  let head = Buffer.alloc(8);
  let gzip = false;
  try {
    try {
      head = head.subarray(0, (await fh.read(head, 0, head.length, 0)).bytesRead);
    } catch (err) {
      throw new PcapFileError(path, `read failed: ${(err as Error).message}`, err);
    }
    gzip = startsWith(head, [0x1f, 0x8b]);
    if (!gzip) await readPlain(path, fh, reader, options.chunkBytes ?? READ_CHUNK_BYTES);
  } finally {
    await fh.close();
  }
  const stop = gzip ? await readGzip(path, reader) : undefined;
  const result = reader.end();
  if (result.kind === 'not_pcap') throw formatError(path, head, result.stop?.event ?? 'unknown magic', gzip);
  if (stop === undefined) return result;
  // The compressed stream broke off: what was decompressed before it was delivered; the end is named.
  result.events[stop.event] = (result.events[stop.event] ?? 0) + 1;
  return { ...result, kind: stop.kind, stop: result.stop ?? { event: stop.event, offset: stop.offset } };
}

/** Reads an uncompressed file in chunks of `chunkBytes`, re-reading a record cut by a chunk's end. */
async function readPlain(path: string, fh: FileHandle, reader: PcapStreamReader, chunkBytes: number): Promise<void> {
  const buf = Buffer.allocUnsafe(chunkBytes);
  let position = 0;
  for (;;) {
    let n: number;
    try {
      ({ bytesRead: n } = await fh.read(buf, 0, buf.length, position));
    } catch (err) {
      throw new PcapFileError(path, `read failed: ${(err as Error).message}`, err);
    }
    if (n === 0) break;
    reader.push(buf.subarray(0, n));
    if (reader.failed) break;
    position += n;
    // A record cut by the chunk's end is read again from its start next time, rather than the reader
    // joining it to the whole next chunk (a 4 MiB copy per read). Only when the chunk made progress:
    // a record longer than a chunk still goes through the reader's own carry.
    const held = reader.carryBytes;
    if (held > 0 && held < n) {
      reader.dropCarry();
      position -= held;
    }
  }
}

/**
 * Decompresses a gzip file (several concatenated members too, as `cat a.gz b.gz` makes) into the
 * reader. A file cut short or damaged mid-stream is not an error: the frames before the break were
 * delivered, and the returned stop names it (`gzip.truncated`, `gzip.corrupt`). The decompressed
 * chunks are fresh buffers, so the reader's own carry joins records that span two of them.
 */
async function readGzip(path: string, reader: PcapStreamReader): Promise<{ kind: 'truncated' | 'corrupt'; event: string; offset: number } | undefined> {
  let delivered = 0;
  try {
    await pipeline(createReadStream(path, { highWaterMark: READ_CHUNK_BYTES }), createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES }), async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) {
        reader.push(chunk);
        delivered += chunk.length;
        // The pcap framing is lost: nothing after this can be read, so stop decompressing.
        if (reader.failed) return;
      }
    });
  } catch (err) {
    // Stopping early (the reader failed) aborts the streams behind it: the reader's stop says why.
    if (reader.failed) return undefined;
    const code = (err as { code?: unknown }).code;
    if (code === 'Z_BUF_ERROR') return { kind: 'truncated', event: 'gzip.truncated', offset: delivered };
    if (code === 'Z_DATA_ERROR') return { kind: 'corrupt', event: 'gzip.corrupt', offset: delivered };
    throw new PcapFileError(path, `read failed: ${(err as Error).message}`, err);
  }
  return undefined;
}
