/**
 * Constants and header codecs of the two capture file formats:
 * classic pcap (draft-ietf-opsawg-pcap, "PCAP Capture File Format") and
 * pcapng (draft-ietf-opsawg-pcapng, "PCAP Now Generic"). Pure: no I/O.
 */

/** Classic pcap magic, microsecond timestamps, as read in the writer's byte order. */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
/** Classic pcap magic, nanosecond timestamps. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_FILE_HEADER_BYTES = 24;
export const PCAP_RECORD_HEADER_BYTES = 16;

/** pcapng Section Header Block type: a palindrome, readable in either byte order. */
export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
export const PCAPNG_IDB = 0x00000001;
/** Obsolete Packet Block (pcapng 1.0), still written by old tools. */
export const PCAPNG_OPB = 0x00000002;
export const PCAPNG_SPB = 0x00000003;
export const PCAPNG_EPB = 0x00000006;
export const PCAPNG_OPT_ENDOFOPT = 0;
export const PCAPNG_OPT_IF_NAME = 2;
export const PCAPNG_OPT_IF_TSRESOL = 9;
export const PCAPNG_OPT_IF_TSOFFSET = 14;

/**
 * Largest classic-pcap record we accept. libpcap's own limit
 * (MAXIMUM_SNAPLEN, 262144); a bigger length means the file is corrupt, and
 * without a bound one bad length would make us buffer gigabytes.
 */
export const MAX_PCAP_RECORD_BYTES = 262_144;

/**
 * Largest pcapng block we accept: libpcap's MAX_BLOCKSIZE (16 MiB). Larger
 * lengths are treated as corruption, for the same reason as above.
 */
export const MAX_PCAPNG_BLOCK_BYTES = 16 * 1024 * 1024;

/**
 * Snap length the writer puts in its file header when none is given: the
 * same 262144 tcpdump uses, large enough for TSO/GSO super-frames.
 */
export const DEFAULT_WRITER_SNAPLEN = 262_144;

export type TsPrecision = 'us' | 'ns';

/** Encodes a classic pcap file header in little-endian (the host order on x86/arm64). */
export function encodePcapFileHeader(linkType: number, snaplen: number, precision: TsPrecision): Buffer {
  const b = Buffer.alloc(PCAP_FILE_HEADER_BYTES);
  b.writeUInt32LE(precision === 'ns' ? PCAP_MAGIC_NS : PCAP_MAGIC_US, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8); // thiszone: always 0 (UTC)
  b.writeUInt32LE(0, 12); // sigfigs: always 0
  b.writeUInt32LE(snaplen >>> 0, 16);
  b.writeUInt32LE(linkType >>> 0, 20);
  return b;
}

/**
 * Splits a millisecond timestamp into whole seconds and a fraction in
 * microseconds or nanoseconds, carrying a fraction that rounds up to a full
 * second. Negative and non-finite timestamps clamp to 0: the format stores
 * unsigned seconds.
 */
export function splitTimestamp(ts: number, precision: TsPrecision): { sec: number; frac: number } {
  if (!Number.isFinite(ts) || ts <= 0) return { sec: 0, frac: 0 };
  const perSec = precision === 'ns' ? 1e9 : 1e6;
  let sec = Math.floor(ts / 1000);
  let frac = Math.round((ts - sec * 1000) * (perSec / 1000));
  if (frac >= perSec) {
    sec += 1;
    frac -= perSec;
  }
  if (frac < 0) frac = 0;
  if (sec > 0xffffffff) return { sec: 0xffffffff, frac: perSec - 1 };
  return { sec, frac };
}

/** Units per second of a pcapng if_tsresol byte: 10^v, or 2^v when the top bit is set. */
export function tsResolutionUnitsPerSecond(tsresol: number): number {
  const v = tsresol & 0x7f;
  return (tsresol & 0x80) !== 0 ? 2 ** v : 10 ** v;
}
