/**
 * Reads a pcap or pcapng file in large chunks and hands every frame to a
 * `FrameSink` (the I/O edge around the pure PcapStreamReader). Frames are
 * views into a reused read buffer: sinks must copy what they keep.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { PcapFileError, PcapFormatError } from './errors.js';
import type { FrameSink } from './frame-sink.js';
import { PcapStreamReader } from './pcap-reader.js';
import type { PcapInterface, PcapReadResult } from './pcap-reader.js';

/**
 * Bytes per read(2). 4 MiB amortises the syscall and promise cost over tens
 * of thousands of records while keeping one reader's memory small.
 */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

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
  const names = new WeakMap<PcapInterface, string>();
  const reader: PcapStreamReader = new PcapStreamReader((linkType, frame, ts, _origLen, ifIndex) => {
    const iface = reader.interfaces[ifIndex];
    let name = iface === undefined ? undefined : names.get(iface);
    if (name === undefined) {
      name = iface?.name ?? `${path}#${ifIndex}`;
      if (iface !== undefined) names.set(iface, name);
    }
    onFrame(linkType, frame, ts, name);
  });
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new PcapFileError(path, `cannot open: ${(err as Error).message}`, err);
  }
  try {
    const buf = Buffer.allocUnsafe(options.chunkBytes ?? READ_CHUNK_BYTES);
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
  } finally {
    await fh.close();
  }
  const result = reader.end();
  if (result.kind === 'not_pcap') throw new PcapFormatError(path, result.stop?.event ?? 'unknown magic');
  return result;
}
