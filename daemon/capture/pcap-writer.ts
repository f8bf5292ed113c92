/**
 * Buffered writer of classic pcap files (draft-ietf-opsawg-pcap), with
 * microsecond or nanosecond timestamps, little-endian. Used to generate
 * benchmark captures and to record traffic in tests. The encoding is pure;
 * bytes leave through a `PcapOutput` (a file, or memory in tests).
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { CaptureConfigError, CaptureError, PcapFileError } from './errors.js';
import {
  DEFAULT_WRITER_SNAPLEN,
  MAX_PCAP_RECORD_BYTES,
  PCAP_RECORD_HEADER_BYTES,
  encodePcapFileHeader,
  splitTimestamp,
} from './pcap-format.js';
import type { TsPrecision } from './pcap-format.js';

/**
 * Bytes buffered before a write(2). 1 MiB keeps syscalls to a few hundred per
 * second at benchmark rates while bounding memory per open writer.
 */
export const WRITER_BUFFER_BYTES = 1024 * 1024;

export interface PcapOutput {
  write(bytes: Buffer): void;
  close(): void;
}

export interface PcapWriterOptions {
  linkType: number;
  precision?: TsPrecision;
  /** Frames longer than this are cut to it (original length kept in the record). */
  snaplen?: number;
  bufferBytes?: number;
}

export interface PcapWriterStats {
  frames: number;
  bytes: number;
  /** Frames cut to the snap length. */
  truncated: number;
}

export class PcapWriter {
  private readonly buf: Buffer;
  private used = 0;
  private closed = false;
  private readonly precision: TsPrecision;
  private readonly snaplen: number;
  readonly stats: PcapWriterStats = { frames: 0, bytes: 0, truncated: 0 };

  /** Creates (or truncates) `path` and writes the file header. */
  static open(path: string, options: PcapWriterOptions): PcapWriter {
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (err) {
      throw new PcapFileError(path, `cannot create: ${(err as Error).message}`, err);
    }
    const output: PcapOutput = {
      write(bytes) {
        try {
          let off = 0;
          while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
        } catch (err) {
          throw new PcapFileError(path, `write failed: ${(err as Error).message}`, err);
        }
      },
      close() {
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      },
    };
    return new PcapWriter(output, options);
  }

  constructor(
    private readonly output: PcapOutput,
    options: PcapWriterOptions,
  ) {
    this.precision = options.precision ?? 'us';
    this.snaplen = options.snaplen ?? DEFAULT_WRITER_SNAPLEN;
    const bufferBytes = options.bufferBytes ?? WRITER_BUFFER_BYTES;
    if (!Number.isInteger(options.linkType) || options.linkType < 0 || options.linkType > 0xffff) {
      throw new CaptureConfigError(`pcap writer: link type ${options.linkType} is not a 16-bit number`);
    }
    if (!Number.isInteger(this.snaplen) || this.snaplen < 1 || this.snaplen > MAX_PCAP_RECORD_BYTES) {
      throw new CaptureConfigError(`pcap writer: snap length ${this.snaplen} outside 1..${MAX_PCAP_RECORD_BYTES}`);
    }
    if (!Number.isInteger(bufferBytes) || bufferBytes < PCAP_RECORD_HEADER_BYTES * 2) {
      throw new CaptureConfigError(`pcap writer: buffer size ${bufferBytes} too small`);
    }
    this.buf = Buffer.allocUnsafe(bufferBytes);
    this.output.write(encodePcapFileHeader(options.linkType, this.snaplen, this.precision));
  }

  /**
   * Appends one frame captured at `ts` (ms since the epoch). `origLen` is the
   * length on the wire when `frame` was already cut shorter.
   */
  write(frame: Buffer, ts: number, origLen: number = frame.length): void {
    if (this.closed) throw new CaptureError('PCAP_WRITER_CLOSED', 'pcap writer: write after close');
    let incl = frame.length;
    if (incl > this.snaplen) {
      incl = this.snaplen;
      this.stats.truncated++;
    }
    const orig = Math.max(origLen >>> 0, incl);
    const { sec, frac } = splitTimestamp(ts, this.precision);
    if (this.used + PCAP_RECORD_HEADER_BYTES > this.buf.length) this.flush();
    const b = this.buf;
    let o = this.used;
    b.writeUInt32LE(sec, o);
    b.writeUInt32LE(frac, o + 4);
    b.writeUInt32LE(incl, o + 8);
    b.writeUInt32LE(orig, o + 12);
    o += PCAP_RECORD_HEADER_BYTES;
    if (o + incl <= b.length) {
      frame.copy(b, o, 0, incl);
      this.used = o + incl;
    } else {
      // Too big for what is left of the buffer: flush the header, write the frame straight through.
      this.used = o;
      this.flush();
      this.output.write(frame.subarray(0, incl));
    }
    this.stats.frames++;
    this.stats.bytes += incl;
  }

  flush(): void {
    if (this.used === 0) return;
    // Copy: the output may hold on to what it is given (memory outputs do).
    this.output.write(Buffer.from(this.buf.subarray(0, this.used)));
    this.used = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.output.close();
  }
}

/** A `PcapOutput` that collects the file in memory (tests, small captures). */
export class MemoryPcapOutput implements PcapOutput {
  private readonly chunks: Buffer[] = [];
  closed = false;
  write(bytes: Buffer): void {
    this.chunks.push(bytes);
  }
  close(): void {
    this.closed = true;
  }
  contents(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
