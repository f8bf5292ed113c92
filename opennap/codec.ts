/**
 * OpenNap (Napster) framing codec, after napster.txt §1 (sbcas/opennap):
 * every message is `<length:uint16 LE><type:uint16 LE><data: length bytes>`,
 * with no line ending. Shared by the directory server, the client, the cache
 * proxy and the passive analyzer, so all four agree on what a frame is.
 *
 * Decoding never throws on bad bytes: it answers ok / incomplete / error.
 */

/** Bytes of the length + type header. */
export const HEADER_BYTES = 4;

/**
 * Largest data section we accept by default. The wire allows 65535, but the
 * biggest legitimate message (a 201 result or a 100 share with a long path)
 * is well under 1 KB; 8 KB leaves room for long chat lines while capping
 * what one hostile peer can make us buffer.
 */
export const DEFAULT_MAX_DATA = 8192;

/** The wire's own limit: the length field is 16 bits. */
export const WIRE_MAX_DATA = 0xffff;

export interface Frame {
  type: number;
  /** The data section, a view into the decoder's buffer: copy it if it must outlive the next `push`. */
  data: Buffer;
}

export type FrameResult =
  | { kind: 'ok'; frame: Frame; consumed: number }
  | { kind: 'incomplete'; needed: number }
  | { kind: 'error'; code: 'frame_too_large'; length: number; type: number };

/** Decodes one frame at `offset`. Pure. */
export function decodeFrame(buf: Buffer, offset = 0, maxData = DEFAULT_MAX_DATA): FrameResult {
  const available = buf.length - offset;
  if (available < HEADER_BYTES) return { kind: 'incomplete', needed: HEADER_BYTES - available };
  const length = buf.readUInt16LE(offset);
  const type = buf.readUInt16LE(offset + 2);
  if (length > maxData) return { kind: 'error', code: 'frame_too_large', length, type };
  const total = HEADER_BYTES + length;
  if (available < total) return { kind: 'incomplete', needed: total - available };
  return {
    kind: 'ok',
    frame: { type, data: buf.subarray(offset + HEADER_BYTES, offset + total) },
    consumed: total,
  };
}

/** Encodes one frame; a string is written as latin1 so every byte value round-trips unchanged. */
export function encodeFrame(type: number, data: string | Buffer = ''): Buffer {
  const length = typeof data === 'string' ? Buffer.byteLength(data, 'latin1') : data.length;
  if (length > WIRE_MAX_DATA) throw new RangeError(`OpenNap frame data of ${length} bytes exceeds ${WIRE_MAX_DATA}`);
  const out = Buffer.allocUnsafe(HEADER_BYTES + length);
  out.writeUInt16LE(length, 0);
  out.writeUInt16LE(type, 2);
  if (typeof data === 'string') out.write(data, HEADER_BYTES, 'latin1');
  else data.copy(out, HEADER_BYTES);
  return out;
}

/**
 * The whole frame (header and data) around a data section returned by
 * `decodeFrame` or `FrameDecoder`: a view of the bytes received, no copy, so
 * a relay writes exactly what came in. Only for data those functions returned.
 */
export function frameBytes(data: Buffer): Buffer {
  return Buffer.from(data.buffer, data.byteOffset - HEADER_BYTES, data.length + HEADER_BYTES);
}

/** Encodes several frames into one buffer, so a whole result set goes out in one write. */
export function encodeFrames(frames: readonly { type: number; data: string | Buffer }[]): Buffer {
  return Buffer.concat(frames.map((f) => encodeFrame(f.type, f.data)));
}

/**
 * Incremental decoder for a byte stream arriving in arbitrary chunks (split
 * and coalesced frames). Holds at most one partial frame (≤ HEADER_BYTES +
 * maxData bytes) between pushes, so its memory is bounded by construction.
 */
/** One shared empty buffer: a decoder with nothing pending allocates nothing (analyzers hold one per flow direction). */
const EMPTY = Buffer.alloc(0);

export class FrameDecoder {
  private pending: Buffer = EMPTY;
  private offset = 0;
  private failed: FrameResult | undefined;
  /** False while `pending` is the caller's own buffer, which the caller may reuse after `push` returns. */
  private owned = true;

  constructor(private readonly maxData = DEFAULT_MAX_DATA) {}

  /**
   * Adds bytes. The chunk is read in place until `next()` answers
   * `incomplete`; the partial frame left then is copied, so a caller may
   * reuse its buffer (packet capture does) once it has drained the frames.
   * Frames returned by `next()` are views: use them before the next `push`.
   */
  push(chunk: Buffer): void {
    if (this.failed) return;
    if (this.offset >= this.pending.length) {
      this.pending = chunk;
    } else {
      this.pending = Buffer.concat([this.pending.subarray(this.offset), chunk]);
    }
    // Either way what is left after decoding is copied to its own exact-size
    // buffer (a concat may be a slice of Node's shared pool, or much larger).
    this.owned = false;
    this.offset = 0;
  }

  /** The next complete frame, `incomplete` when more bytes are needed, or a sticky `error`. */
  next(): FrameResult {
    if (this.failed) return this.failed;
    const result = decodeFrame(this.pending, this.offset, this.maxData);
    if (result.kind === 'ok') this.offset += result.consumed;
    else if (result.kind === 'error') this.failed = result;
    else if (!this.owned) this.keepLeftover();
    return result;
  }

  /** Copies the partial frame out of the caller's buffer (only the bytes not yet decoded). */
  private keepLeftover(): void {
    const left = this.pending.length - this.offset;
    if (left > 0) {
      // Its own allocation, not a slice of Node's shared 8 KB pool: a partial
      // frame can wait for a long time, and a pooled slice would pin a whole slab.
      const copy = Buffer.allocUnsafeSlow(left);
      this.pending.copy(copy, 0, this.offset);
      this.pending = copy;
    } else {
      this.pending = EMPTY;
    }
    this.offset = 0;
    this.owned = true;
  }

  /** Bytes held that do not yet form a frame. */
  get buffered(): number {
    return this.pending.length - this.offset;
  }

  /** Type of the frame whose header is held, or -1 while fewer than HEADER_BYTES bytes are. */
  heldType(): number {
    return this.pending.length - this.offset >= HEADER_BYTES ? this.pending.readUInt16LE(this.offset + 2) : -1;
  }

  /** The bytes held from the current position on (a partial or rejected frame), for resynchronisation. */
  remaining(): Buffer {
    return this.pending.subarray(this.offset);
  }

  /** Drops buffered bytes and a sticky error: used after a gap to resynchronise. */
  reset(): void {
    this.pending = EMPTY;
    this.offset = 0;
    this.failed = undefined;
  }
}
