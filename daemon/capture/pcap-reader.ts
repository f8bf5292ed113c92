/**
 * Streaming reader for capture files: classic pcap (both byte orders,
 * microsecond and nanosecond magic; draft-ietf-opsawg-pcap) and pcapng
 * (SHB, IDB, EPB, SPB, OPB; per-interface link type, if_tsresol and
 * if_tsoffset; draft-ietf-opsawg-pcapng). Pure: bytes come in through
 * `push`, records go out through a callback, nothing here does I/O.
 *
 * Frames are delivered as offsets into the pushed chunk (no copy, no view),
 * so the caller may reuse its read buffer once `push` returns, and record
 * sinks must not keep the bytes. Corruption never throws: it is a counted event, and
 * every complete record before it has already been delivered.
 */
import {
  MAX_PCAPNG_BLOCK_BYTES,
  MAX_PCAP_RECORD_BYTES,
  PCAPNG_BYTE_ORDER_MAGIC,
  PCAPNG_EPB,
  PCAPNG_IDB,
  PCAPNG_OPB,
  PCAPNG_OPT_ENDOFOPT,
  PCAPNG_OPT_IF_NAME,
  PCAPNG_OPT_IF_TSOFFSET,
  PCAPNG_OPT_IF_TSRESOL,
  PCAPNG_SHB,
  PCAPNG_SPB,
  PCAP_FILE_HEADER_BYTES,
  PCAP_MAGIC_NS,
  PCAP_MAGIC_US,
  PCAP_RECORD_HEADER_BYTES,
  tsResolutionUnitsPerSecond,
} from './pcap-format.js';

/**
 * One record: link type, the frame as `bytes[start, end)` (the reader's buffer, reused: do not keep
 * it), ms timestamp, original wire length, interface index. Offsets, not a view per frame: making
 * the view cost more than decoding the frame (BENCHMARKS.md).
 */
export type PcapRecordSink = (linkType: number, bytes: Buffer, start: number, end: number, ts: number, origLen: number, ifIndex: number) => void;

export interface PcapInterface {
  linkType: number;
  snaplen: number;
  /** if_name option, when the file has one. */
  name: string | undefined;
  /** Timestamp units per millisecond (from if_tsresol). Dividing by it rounds correctly; multiplying by its inverse would not. */
  unitsPerMs: number;
  /** if_tsoffset in milliseconds. */
  offsetMs: number;
}

/**
 * How reading ended: `complete` (ended on a record boundary), `truncated`
 * (a partial record at the end), `corrupt` (bad lengths or magic after the
 * start: the framing is lost), `not_pcap` (unknown magic at offset 0).
 */
export type PcapEndKind = 'complete' | 'truncated' | 'corrupt' | 'not_pcap';

export interface PcapReadResult {
  kind: PcapEndKind;
  format: 'pcap' | 'pcapng' | undefined;
  frames: number;
  /** Captured frame bytes delivered. */
  bytes: number;
  /** Named events, e.g. `pcap.truncated_record`, `pcapng.unknown_interface`. */
  events: Record<string, number>;
  /** The event that stopped reading, with the file offset of the bad record or block. */
  stop: { event: string; offset: number } | undefined;
}

type State = 'start' | 'classic' | 'pcapng' | 'failed';

export class PcapStreamReader {
  private state: State = 'start';
  private carry: Buffer | undefined;
  /** File offset of the first byte of the current parse buffer. */
  private base = 0;
  private le = true;
  private classicLinkType = 0;
  private classicFracPerMs = 1e3;
  private classicMaxRecord = MAX_PCAP_RECORD_BYTES;
  private readonly ifaces: PcapInterface[] = [];
  private fmt: 'pcap' | 'pcapng' | undefined;
  private stopInfo: { event: string; offset: number; kind: PcapEndKind } | undefined;
  private readonly eventCounts: Record<string, number> = {};
  frames = 0;
  bytes = 0;

  constructor(private readonly onRecord: PcapRecordSink) {}

  get format(): 'pcap' | 'pcapng' | undefined {
    return this.fmt;
  }

  /** Interfaces of the current pcapng section (one synthetic entry for classic pcap). */
  get interfaces(): readonly PcapInterface[] {
    return this.ifaces;
  }

  get failed(): boolean {
    return this.state === 'failed';
  }

  /** Feeds the next bytes of the file. Complete records are delivered before it returns. */
  push(chunk: Buffer): void {
    if (this.failed) {
      this.count('pcap.bytes_after_failure', chunk.length);
      return;
    }
    let buf = chunk;
    if (this.carry !== undefined && this.carry.length > 0) {
      buf = Buffer.concat([this.carry, chunk]);
    }
    this.carry = undefined;
    let pos = 0;
    try {
      if (this.state === 'start') pos = this.parseStart(buf);
      if (this.state === 'classic') pos = this.parseClassic(buf, pos);
      else if (this.state === 'pcapng') pos = this.parsePcapng(buf, pos);
    } catch (err) {
      // Only a throwing record sink gets here; the parsers themselves do not throw.
      this.fail('pcap.sink_threw', this.base + pos, 'corrupt');
      throw err;
    }
    if (this.failed) return;
    if (pos < buf.length) this.carry = Buffer.from(buf.subarray(pos));
    this.base += pos;
  }

  /** Bytes of an incomplete record held since the last push. */
  get carryBytes(): number {
    return this.carry?.length ?? 0;
  }

  /**
   * Forgets the held partial record: for a caller that will push those same
   * bytes again at the start of its next chunk (a file reader re-reading
   * from the record's offset), which spares copying every chunk behind them.
   */
  dropCarry(): void {
    this.carry = undefined;
  }

  /** Call at end of input: reports how the stream ended. */
  end(): PcapReadResult {
    let kind: PcapEndKind = 'complete';
    let stop: { event: string; offset: number } | undefined;
    if (this.stopInfo !== undefined) {
      kind = this.stopInfo.kind;
      stop = { event: this.stopInfo.event, offset: this.stopInfo.offset };
    } else if (this.state === 'start') {
      const event = 'pcap.truncated_file_header';
      this.count(event);
      kind = 'truncated';
      stop = { event, offset: 0 };
    } else if (this.carry !== undefined && this.carry.length > 0) {
      const event = this.state === 'pcapng' ? 'pcapng.truncated_block' : 'pcap.truncated_record';
      this.count(event);
      kind = 'truncated';
      stop = { event, offset: this.base };
    }
    return {
      kind,
      format: this.fmt,
      frames: this.frames,
      bytes: this.bytes,
      events: { ...this.eventCounts },
      stop,
    };
  }

  private count(name: string, n = 1): void {
    this.eventCounts[name] = (this.eventCounts[name] ?? 0) + n;
  }

  private fail(event: string, offset: number, kind: PcapEndKind): void {
    this.count(event);
    this.state = 'failed';
    this.stopInfo = { event, offset, kind };
    this.carry = undefined;
  }

  /** Reads the file magic; returns the position after the file header (or 0 when more bytes are needed). */
  private parseStart(buf: Buffer): number {
    if (buf.length < 4) return 0;
    const magicLE = buf.readUInt32LE(0);
    if (magicLE === PCAPNG_SHB) {
      this.state = 'pcapng';
      this.fmt = 'pcapng';
      return 0;
    }
    const magicBE = buf.readUInt32BE(0);
    let le: boolean;
    let ns: boolean;
    if (magicLE === PCAP_MAGIC_US || magicLE === PCAP_MAGIC_NS) {
      le = true;
      ns = magicLE === PCAP_MAGIC_NS;
    } else if (magicBE === PCAP_MAGIC_US || magicBE === PCAP_MAGIC_NS) {
      le = false;
      ns = magicBE === PCAP_MAGIC_NS;
    } else {
      this.fail('pcap.bad_magic', 0, 'not_pcap');
      return 0;
    }
    if (buf.length < PCAP_FILE_HEADER_BYTES) return 0;
    this.le = le;
    this.fmt = 'pcap';
    const major = le ? buf.readUInt16LE(4) : buf.readUInt16BE(4);
    if (major !== 2) this.count('pcap.unexpected_version');
    const snaplen = le ? buf.readUInt32LE(16) : buf.readUInt32BE(16);
    const network = le ? buf.readUInt32LE(20) : buf.readUInt32BE(20);
    // Bits 16..31 of the link-type field carry FCS information, not the type.
    this.classicLinkType = network & 0xffff;
    this.classicFracPerMs = ns ? 1e6 : 1e3;
    this.classicMaxRecord = Math.max(MAX_PCAP_RECORD_BYTES, Math.min(snaplen, MAX_PCAPNG_BLOCK_BYTES));
    this.ifaces.length = 0;
    this.ifaces.push({ linkType: this.classicLinkType, snaplen, name: undefined, unitsPerMs: this.classicFracPerMs, offsetMs: 0 });
    this.state = 'classic';
    return PCAP_FILE_HEADER_BYTES;
  }

  private parseClassic(buf: Buffer, start: number): number {
    let pos = start;
    const end = buf.length;
    const le = this.le;
    const linkType = this.classicLinkType;
    const fracPerMs = this.classicFracPerMs;
    const maxRecord = this.classicMaxRecord;
    // DataView reads are inlined by V8 and skip Buffer's per-call argument checks: this loop is the replay hot path.
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    while (end - pos >= PCAP_RECORD_HEADER_BYTES) {
      const sec = dv.getUint32(pos, le);
      const frac = dv.getUint32(pos + 4, le);
      const incl = dv.getUint32(pos + 8, le);
      const orig = dv.getUint32(pos + 12, le);
      if (incl > maxRecord) {
        this.fail('pcap.record_too_large', this.base + pos, 'corrupt');
        return pos;
      }
      const dataStart = pos + PCAP_RECORD_HEADER_BYTES;
      const dataEnd = dataStart + incl;
      if (dataEnd > end) break;
      if (incl > orig) this.count('pcap.caplen_exceeds_origlen');
      pos = dataEnd;
      this.frames++;
      this.bytes += incl;
      this.onRecord(linkType, buf, dataStart, dataEnd, sec * 1000 + frac / fracPerMs, orig, 0);
    }
    return pos;
  }

  private parsePcapng(buf: Buffer, start: number): number {
    let pos = start;
    const end = buf.length;
    while (end - pos >= 12) {
      const typeLE = buf.readUInt32LE(pos);
      if (typeLE === PCAPNG_SHB) {
        // A new section may change byte order: read it from the byte-order magic.
        const bom = buf.readUInt32LE(pos + 8);
        if (bom === PCAPNG_BYTE_ORDER_MAGIC) this.le = true;
        else if (bom === 0x4d3c2b1a) this.le = false;
        else {
          this.fail('pcapng.bad_byte_order_magic', this.base + pos, this.base + pos === 0 ? 'not_pcap' : 'corrupt');
          return pos;
        }
      }
      const le = this.le;
      const type = le ? typeLE : buf.readUInt32BE(pos);
      const len = le ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_PCAPNG_BLOCK_BYTES) {
        this.fail('pcapng.bad_block_length', this.base + pos, 'corrupt');
        return pos;
      }
      if (end - pos < len) break;
      const trailer = le ? buf.readUInt32LE(pos + len - 4) : buf.readUInt32BE(pos + len - 4);
      if (trailer !== len) {
        this.fail('pcapng.block_length_mismatch', this.base + pos, 'corrupt');
        return pos;
      }
      const blockStart = pos;
      pos += len;
      switch (type) {
        case PCAPNG_SHB:
          this.onSectionHeader(buf, blockStart, len);
          break;
        case PCAPNG_IDB:
          this.onInterfaceDescription(buf, blockStart, len);
          break;
        case PCAPNG_EPB:
          this.onEnhancedPacket(buf, blockStart, len);
          break;
        case PCAPNG_SPB:
          this.onSimplePacket(buf, blockStart, len);
          break;
        case PCAPNG_OPB:
          this.onObsoletePacket(buf, blockStart, len);
          break;
        default:
          // NRB, ISB, DSB, custom blocks: nothing the analysers need.
          this.count('pcapng.skipped_block');
      }
    }
    return pos;
  }

  private u32(buf: Buffer, at: number): number {
    return this.le ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
  }

  private u16(buf: Buffer, at: number): number {
    return this.le ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
  }

  private onSectionHeader(buf: Buffer, at: number, len: number): void {
    if (len < 28) {
      this.count('pcapng.bad_section_header');
      return;
    }
    const major = this.u16(buf, at + 12);
    if (major !== 1) this.count('pcapng.unexpected_version');
    // Interface ids are per section.
    this.ifaces.length = 0;
  }

  private onInterfaceDescription(buf: Buffer, at: number, len: number): void {
    if (len < 20) {
      this.count('pcapng.bad_interface_block');
      return;
    }
    const iface: PcapInterface = {
      linkType: this.u16(buf, at + 8),
      snaplen: this.u32(buf, at + 12),
      name: undefined,
      unitsPerMs: 1e3,
      offsetMs: 0,
    };
    let o = at + 16;
    const optEnd = at + len - 4;
    while (optEnd - o >= 4) {
      const code = this.u16(buf, o);
      const olen = this.u16(buf, o + 2);
      const v = o + 4;
      if (code === PCAPNG_OPT_ENDOFOPT) break;
      if (v + olen > optEnd) {
        this.count('pcapng.bad_option');
        break;
      }
      if (code === PCAPNG_OPT_IF_TSRESOL && olen >= 1) {
        const units = tsResolutionUnitsPerSecond(buf[v] ?? 6);
        if (units > 0 && Number.isFinite(units)) iface.unitsPerMs = units / 1000;
        else this.count('pcapng.bad_tsresol');
      } else if (code === PCAPNG_OPT_IF_TSOFFSET && olen >= 8) {
        const hi = this.le ? buf.readInt32LE(v + 4) : buf.readInt32BE(v);
        const lo = this.le ? buf.readUInt32LE(v) : buf.readUInt32BE(v + 4);
        iface.offsetMs = (hi * 4294967296 + lo) * 1000;
      } else if (code === PCAPNG_OPT_IF_NAME && olen > 0) {
        iface.name = buf.toString('utf8', v, v + olen).replace(/\0+$/, '');
      }
      o = v + ((olen + 3) & ~3);
    }
    this.ifaces.push(iface);
  }

  private deliver(iface: PcapInterface, ifIndex: number, buf: Buffer, dataStart: number, caplen: number, orig: number, hi: number, lo: number): void {
    const ts = (hi * 4294967296 + lo) / iface.unitsPerMs + iface.offsetMs;
    this.frames++;
    this.bytes += caplen;
    this.onRecord(iface.linkType, buf, dataStart, dataStart + caplen, ts, orig, ifIndex);
  }

  private onEnhancedPacket(buf: Buffer, at: number, len: number): void {
    this.onPacketBlock(buf, at, len, this.u32(buf, at + 8), true);
  }

  /** The obsolete Packet Block: an EPB with a 16-bit interface id and drop count, caplen not checked against orig. */
  private onObsoletePacket(buf: Buffer, at: number, len: number): void {
    this.onPacketBlock(buf, at, len, this.u16(buf, at + 8), false);
  }

  private onPacketBlock(buf: Buffer, at: number, len: number, ifIndex: number, checkOrig: boolean): void {
    if (len < 32) {
      this.count('pcapng.bad_packet_block');
      return;
    }
    const iface = this.ifaces[ifIndex];
    if (iface === undefined) {
      this.count('pcapng.unknown_interface');
      return;
    }
    const caplen = this.u32(buf, at + 20);
    const orig = this.u32(buf, at + 24);
    if (28 + caplen > len - 4) {
      this.count('pcapng.bad_packet_block');
      return;
    }
    if (checkOrig && caplen > orig) this.count('pcap.caplen_exceeds_origlen');
    this.deliver(iface, ifIndex, buf, at + 28, caplen, orig, this.u32(buf, at + 12), this.u32(buf, at + 16));
  }

  /** SPB: no timestamp and no interface id; it belongs to interface 0 and carries ts 0. */
  private onSimplePacket(buf: Buffer, at: number, len: number): void {
    const iface = this.ifaces[0];
    if (iface === undefined) {
      this.count('pcapng.unknown_interface');
      return;
    }
    if (len < 16) {
      this.count('pcapng.bad_packet_block');
      return;
    }
    const orig = this.u32(buf, at + 8);
    let caplen = Math.min(orig, len - 16);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    this.count('pcapng.simple_packet_no_timestamp');
    this.frames++;
    this.bytes += caplen;
    this.onRecord(iface.linkType, buf, at + 12, at + 12 + caplen, iface.offsetMs, orig, 0);
  }
}
