/**
 * One direction of TCP reassembly (after Zeek's TCP_Reassembler and
 * Suricata's stream engine): delivers payload in sequence order; drops
 * retransmissions; trims overlaps so the first data seen for a byte wins;
 * holds out-of-order segments (copied, bounded) until the hole fills; and
 * when a bound is hit, or at the end of the flow, reports the hole as a gap
 * and moves on. Starts wherever it is first fed (mid-stream works); sequence
 * numbers wrap modulo 2^32 (seq.ts). Pure: no clock, the timestamp comes in.
 *
 * In-order payload is handed on as a span of the caller's bytes (no copy,
 * no view), so a sink that keeps bytes must copy them.
 */
import type { Direction } from '../analyzer.js';
import type { Counters } from '../counters.js';
import { TcpFlag } from '../packet/types.js';
import { seqAdd, seqDiff } from './seq.js';

export interface StreamSink {
  /** In-order stream bytes `bytes[start, end)` (never empty). */
  data(dir: Direction, bytes: Buffer, start: number, end: number, ts: number): void;
  gap(dir: Direction, length: number, ts: number): void;
}

/** Out-of-order bytes held by all reassemblers sharing it (the flow table's global bound). */
export interface BufferBudget {
  used: number;
  readonly max: number;
}

/** What a push needs besides the segment: shared by all reassemblers of one flow table. */
export interface ReassemblyEnv {
  sink: StreamSink;
  counters: Counters;
  budget: BufferBudget;
  maxPendingSegments: number;
}

interface Held {
  seq: number;
  data: Buffer;
}

export class Reassembler {
  /** Next sequence number to deliver; meaningful once `started`. */
  private next = 0;
  private started = false;
  /** Sequence number of the FIN, or -1 before a FIN is seen. */
  private finSeq = -1;
  /** Held out-of-order segments sorted by sequence, non-overlapping; null until the first one (keeps idle flows small). */
  private held: Held[] | null = null;
  private heldBytes = 0;

  constructor(readonly dir: Direction) {}

  get bufferedBytes(): number {
    return this.heldBytes;
  }

  get finSeen(): boolean {
    return this.finSeq >= 0;
  }

  /** The FIN was seen and everything before it was delivered. */
  get complete(): boolean {
    return this.finSeq >= 0 && this.held === null && seqDiff(this.next, this.finSeq) >= 0;
  }

  /**
   * The furthest point this direction has reached: the end of the last data
   * seen (held out-of-order data included) or one past the FIN, whichever is
   * later; undefined before the first segment. This is what the receiver
   * expects next (its RCV.NXT) when it got everything the capture saw, which
   * is what a forged RST must carry (tcp-reset.ts). Read-only, off the hot path.
   */
  get highestNextSeq(): number | undefined {
    if (!this.started) return undefined;
    let hi = this.next;
    const last = this.held?.[this.held.length - 1];
    if (last !== undefined) {
      const end = seqAdd(last.seq, last.data.length);
      if (seqDiff(end, hi) > 0) hi = end;
    }
    if (this.finSeq >= 0) {
      const afterFin = seqAdd(this.finSeq, 1);
      if (seqDiff(afterFin, hi) > 0) hi = afterFin;
    }
    return hi;
  }

  /**
   * Feeds one segment, whose payload is `bytes[start, end)`. `allowance` is
   * how many bytes this direction may hold (the per-flow bound minus what
   * the other direction holds).
   */
  push(seq: number, flags: number, bytes: Buffer, start: number, end: number, ts: number, env: ReassemblyEnv, allowance: number): void {
    const syn = (flags & TcpFlag.SYN) !== 0;
    let s = syn ? seqAdd(seq, 1) : seq;
    if (!this.started) {
      this.started = true;
      this.next = s;
    }
    if ((flags & TcpFlag.FIN) !== 0 && this.finSeq < 0) this.finSeq = seqAdd(s, end - start);
    // What is left of the payload: bytes[from, end).
    let from = start;
    let first = true;
    while (from < end) {
      let rel = seqDiff(s, this.next);
      if (rel + (end - from) <= 0) {
        env.counters.inc(first ? 'reassembly.retransmitted' : 'reassembly.overlap_trimmed');
        return;
      }
      if (rel < 0) {
        env.counters.inc('reassembly.overlap_trimmed');
        from -= rel;
        s = this.next;
        rel = 0;
      }
      first = false;
      if (rel > 0) {
        if (this.hold(s, bytes, from, end, rel, env, allowance)) return;
        // Over a bound: the hole before the earliest data we have is declared lost.
        const head = this.held?.[0];
        const headRel = head === undefined ? rel : Math.min(rel, seqDiff(head.seq, this.next));
        env.sink.gap(this.dir, headRel, ts);
        this.next = seqAdd(this.next, headRel);
        this.drain(ts, env);
        continue;
      }
      // In order. Held data that arrived earlier wins over the part of this segment that overlaps it.
      const head = this.held?.[0];
      const length = end - from;
      const room = head === undefined ? length : seqDiff(head.seq, this.next);
      if (room >= length) {
        // All of it delivered (the usual case).
        this.next = seqAdd(this.next, length);
        env.sink.data(this.dir, bytes, from, end, ts);
        this.drain(ts, env);
        return;
      }
      this.next = seqAdd(this.next, room);
      env.sink.data(this.dir, bytes, from, from + room, ts);
      from += room;
      s = this.next;
      this.drain(ts, env);
    }
  }

  /**
   * The flow ends: every hole before held data and before the FIN is
   * reported as a gap, held data is delivered, the budget is returned.
   */
  flush(ts: number, env: ReassemblyEnv): void {
    while (this.held !== null) {
      const head = this.held[0];
      if (head === undefined) break;
      const rel = seqDiff(head.seq, this.next);
      if (rel > 0) {
        env.counters.inc('reassembly.gap_at_end');
        env.sink.gap(this.dir, rel, ts);
        this.next = head.seq;
      }
      this.drain(ts, env);
    }
    if (this.started && this.finSeq >= 0) {
      const missing = seqDiff(this.finSeq, this.next);
      if (missing > 0) {
        env.counters.inc('reassembly.gap_at_end');
        env.sink.gap(this.dir, missing, ts);
        this.next = this.finSeq;
      }
    }
  }

  /** Drops held data without delivering it (the flow is no longer analysed) and returns its budget. */
  discard(env: ReassemblyEnv): void {
    if (this.held === null) return;
    env.budget.used -= this.heldBytes;
    env.counters.inc('reassembly.discarded_bytes', this.heldBytes);
    this.held = null;
    this.heldBytes = 0;
  }

  /** Delivers held segments that have become in-order. */
  private drain(ts: number, env: ReassemblyEnv): void {
    const held = this.held;
    if (held === null) return;
    while (held.length > 0) {
      const head = held[0];
      if (head === undefined) break;
      const rel = seqDiff(head.seq, this.next);
      if (rel > 0) break;
      held.shift();
      this.heldBytes -= head.data.length;
      env.budget.used -= head.data.length;
      if (rel + head.data.length > 0) {
        const from = rel < 0 ? -rel : 0;
        this.next = seqAdd(this.next, head.data.length - from);
        env.sink.data(this.dir, head.data, from, head.data.length, ts);
      }
    }
    if (held.length === 0) this.held = null;
  }

  /**
   * Holds `p` = `bytes[pFrom, pEnd)` (starting `rel` > 0 bytes after `next`),
   * copying only the parts not already held (first data wins). False, with
   * the reason counted, when a bound would be exceeded; nothing is held then.
   */
  private hold(s: number, bytes: Buffer, pFrom: number, pEnd: number, rel: number, env: ReassemblyEnv, allowance: number): boolean {
    const held = this.held ?? [];
    const pLength = pEnd - pFrom;
    // Pieces of [rel, rel + len) not covered by held segments, as [from, to) offsets into p.
    const pieces: [number, number, number][] = []; // [from, to, insert index]
    let start = rel;
    const end = rel + pLength;
    let i = 0;
    for (; i < held.length && start < end; i++) {
      const h = held[i];
      if (h === undefined) break;
      const hs = seqDiff(h.seq, this.next);
      const he = hs + h.data.length;
      if (he <= start) continue;
      if (hs >= end) break;
      if (hs > start) pieces.push([start - rel, hs - rel, i]);
      start = Math.max(start, he);
    }
    if (start < end) pieces.push([start - rel, end - rel, i]);
    if (pieces.length === 0) {
      env.counters.inc('reassembly.retransmitted');
      return true;
    }
    let copied = 0;
    for (const [a, b] of pieces) copied += b - a;
    if (held.length + pieces.length > env.maxPendingSegments) {
      env.counters.inc('reassembly.gap_segment_bound');
      return false;
    }
    if (this.heldBytes + copied > allowance) {
      env.counters.inc('reassembly.gap_flow_bound');
      return false;
    }
    if (env.budget.used + copied > env.budget.max) {
      env.counters.inc('reassembly.gap_total_bound');
      return false;
    }
    // Insert from the back so earlier insert indexes stay valid.
    for (let k = pieces.length - 1; k >= 0; k--) {
      const piece = pieces[k];
      if (piece === undefined) continue;
      const [from, to, at] = piece;
      held.splice(at, 0, { seq: seqAdd(s, from), data: Buffer.from(bytes.subarray(pFrom + from, pFrom + to)) });
    }
    this.heldBytes += copied;
    env.budget.used += copied;
    this.held = held;
    env.counters.inc('reassembly.out_of_order');
    if (copied < pLength) env.counters.inc('reassembly.overlap_trimmed');
    return true;
  }
}
