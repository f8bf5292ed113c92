/**
 * Zero-copy OpenNap frame scanner for the passive analyzer (framing as in
 * opennap/codec.ts: `<length:u16 LE><type:u16 LE><data>`). Unlike the
 * codec's FrameDecoder, which keeps every partial frame, it asks its sink at
 * each header whether the frame's bytes are wanted: most frames on the wire
 * are search results whose content the analyzer never reads (only the first
 * result of a query is checked), so their data is skipped in place, never
 * copied, even when a frame spans several segments. Wanted frames that lie
 * whole in a chunk are handed over as offsets into it; only a wanted frame
 * split across chunks is copied, into one exact-size buffer of its own.
 * Pure: no I/O, no clock; bad framing is the sink's verdict, not an exception.
 */
import { HEADER_BYTES } from '../../opennap/codec.js';
import { u16le } from '../packet/bytes.js';

/** `FrameSink.frameHeader` verdicts. */
export const FrameVerdict = {
  /** The data is wanted: the frame is delivered with its bytes. */
  keep: 0,
  /** Only the frame's type matters: a frame split across chunks is delivered without bytes. */
  skip: 1,
  /** The header makes no sense here: scanning stops and the bytes from this header on are returned. */
  reject: 2,
} as const;
export type FrameVerdict = (typeof FrameVerdict)[keyof typeof FrameVerdict];

export interface FrameSink {
  /** Judges a frame as soon as its header is complete (before its data arrives). */
  frameHeader(type: number, length: number): FrameVerdict;
  /**
   * A complete frame. `buf` holds its data at `start..end`, valid only during
   * the call (it may be the caller's reused capture buffer); null for a
   * skipped frame whose bytes were not kept.
   */
  frame(type: number, buf: Buffer | null, start: number, end: number): void;
}

export class FrameScanner {
  /** A partial header (fewer than HEADER_BYTES bytes, `heldType` -1) or a kept frame being filled. */
  private held: Buffer | null = null;
  private heldUsed = 0;
  private heldType = -1;
  /** Data bytes of a skipped frame still to come, and its type. */
  private skipLeft = 0;
  private skipType = 0;

  /** Bytes held for an incomplete header or kept frame (skipped bytes are never held). */
  get buffered(): number {
    return this.held === null ? 0 : this.heldUsed;
  }

  /** Forgets any partial frame: the next byte pushed is taken as the start of a header. */
  reset(): void {
    this.held = null;
    this.heldUsed = 0;
    this.heldType = -1;
    this.skipLeft = 0;
  }

  /**
   * Scans `chunk[start, end)` (the whole chunk by default). Returns null when
   * every byte was taken (whole frames delivered, a partial one held or being
   * skipped), or, when the sink rejects a header, the bytes from that header
   * on (a view of `chunk`, or a new buffer when the header began in an
   * earlier chunk); the scanner is then reset.
   */
  push(chunk: Buffer, sink: FrameSink, start = 0, end = chunk.length): Buffer | null {
    const n = end;
    let pos = start;
    if (this.skipLeft > 0) {
      const skipped = Math.min(this.skipLeft, n - pos);
      this.skipLeft -= skipped;
      pos += skipped;
      if (this.skipLeft > 0) return null;
      sink.frame(this.skipType, null, 0, 0);
    } else if (this.held !== null && this.heldType >= 0) {
      pos = this.fill(chunk, pos, n, sink);
      if (this.held !== null) return null;
    } else if (this.held !== null) {
      // A header split across chunks: complete it, then judge it.
      const head = this.held;
      const take = Math.min(HEADER_BYTES - this.heldUsed, n - pos);
      chunk.copy(head, this.heldUsed, pos, pos + take);
      this.heldUsed += take;
      pos += take;
      if (this.heldUsed < HEADER_BYTES) return null;
      this.held = null;
      this.heldUsed = 0;
      const length = u16le(head, 0);
      const type = u16le(head, 2);
      const verdict = sink.frameHeader(type, length);
      if (verdict === FrameVerdict.reject) return Buffer.concat([head, chunk.subarray(pos, n)]);
      if (length <= n - pos) {
        sink.frame(type, chunk, pos, pos + length);
        pos += length;
      } else if (verdict === FrameVerdict.skip) {
        this.skipType = type;
        this.skipLeft = length - (n - pos);
        return null;
      } else {
        this.keepPartial(head, 0, HEADER_BYTES, type, length);
        this.fill(chunk, pos, n, sink);
        return null;
      }
    }
    while (pos < n) {
      if (n - pos < HEADER_BYTES) {
        // Its own small allocation: a pooled slice would pin a shared slab for as long as the flow idles.
        const head = Buffer.allocUnsafeSlow(HEADER_BYTES);
        chunk.copy(head, 0, pos, n);
        this.held = head;
        this.heldUsed = n - pos;
        this.heldType = -1;
        return null;
      }
      const length = u16le(chunk, pos);
      const type = u16le(chunk, pos + 2);
      const verdict = sink.frameHeader(type, length);
      if (verdict === FrameVerdict.reject) return chunk.subarray(pos, n);
      const frameEnd = pos + HEADER_BYTES + length;
      if (frameEnd <= n) {
        sink.frame(type, chunk, pos + HEADER_BYTES, frameEnd);
        pos = frameEnd;
        continue;
      }
      if (verdict === FrameVerdict.skip) {
        this.skipType = type;
        this.skipLeft = frameEnd - n;
        return null;
      }
      this.keepPartial(chunk, pos, n, type, length);
      return null;
    }
    return null;
  }

  /** Starts keeping a frame of `length` data bytes whose first bytes are `src[from..to)`. */
  private keepPartial(src: Buffer, from: number, to: number, type: number, length: number): void {
    // Exact size and unpooled: it may wait long for its tail.
    const frame = Buffer.allocUnsafeSlow(HEADER_BYTES + length);
    src.copy(frame, 0, from, to);
    this.held = frame;
    this.heldUsed = to - from;
    this.heldType = type;
  }

  /** Copies bytes of `chunk[pos, end)` into the kept frame, delivers it once complete; returns the new position. */
  private fill(chunk: Buffer, pos: number, end: number, sink: FrameSink): number {
    const frame = this.held!;
    const take = Math.min(frame.length - this.heldUsed, end - pos);
    chunk.copy(frame, this.heldUsed, pos, pos + take);
    this.heldUsed += take;
    if (this.heldUsed < frame.length) return pos + take;
    const type = this.heldType;
    this.held = null;
    this.heldUsed = 0;
    this.heldType = -1;
    sink.frame(type, frame, HEADER_BYTES, frame.length);
    return pos + take;
  }
}
