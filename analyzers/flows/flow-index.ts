/**
 * Finds the flow of a decoded packet. IPv4 flows, nearly all traffic, are
 * found by their numeric 5-tuple: a 30-bit hash (a small-integer Map key,
 * the fastest kind) to a chain of flows compared field by field, with no
 * string built per packet. Building and hashing a text key cost about as much
 * as the rest of the flow layer together. IPv6 flows keep a text key.
 */
import type { DecodedPacket } from '../packet/types.js';
import { flowKeyOf } from './flow.js';
import type { Flow } from './flow.js';

/** The direction-normalised IPv4 5-tuple a flow is indexed by (the lower address/port end first). */
export interface V4Tuple {
  udp: boolean;
  lowIp: number;
  lowPort: number;
  highIp: number;
  highPort: number;
}

export function tupleHash(udp: boolean, lowIp: number, lowPort: number, highIp: number, highPort: number): number {
  let x = Math.imul(lowIp ^ (udp ? 0x5bd1e995 : 0x1b873593), 0x9e3779b1) ^ highIp;
  x = Math.imul(x ^ (x >>> 15), 0x85ebca6b) ^ ((lowPort << 16) | highPort);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) & 0x3fffffff;
}

/** Normalises a packet's IPv4 tuple (srcV4/dstV4 must be ≥ 0). */
export function v4TupleOf(pkt: DecodedPacket): V4Tuple {
  const srcFirst = pkt.srcV4 < pkt.dstV4 || (pkt.srcV4 === pkt.dstV4 && pkt.srcPort <= pkt.dstPort);
  return srcFirst
    ? { udp: pkt.transport === 'udp', lowIp: pkt.srcV4, lowPort: pkt.srcPort, highIp: pkt.dstV4, highPort: pkt.dstPort }
    : { udp: pkt.transport === 'udp', lowIp: pkt.dstV4, lowPort: pkt.dstPort, highIp: pkt.srcV4, highPort: pkt.srcPort };
}

export class FlowIndex {
  private readonly v4 = new Map<number, Flow>();
  private readonly text = new Map<string, Flow>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The flow of this packet, if tracked. */
  find(pkt: DecodedPacket): Flow | undefined {
    if (pkt.srcV4 < 0) return this.text.get(flowKeyOf(pkt.transport, pkt.src, pkt.srcPort, pkt.dst, pkt.dstPort));
    const udp = pkt.transport === 'udp';
    let lowIp: number, lowPort: number, highIp: number, highPort: number;
    if (pkt.srcV4 < pkt.dstV4 || (pkt.srcV4 === pkt.dstV4 && pkt.srcPort <= pkt.dstPort)) {
      lowIp = pkt.srcV4;
      lowPort = pkt.srcPort;
      highIp = pkt.dstV4;
      highPort = pkt.dstPort;
    } else {
      lowIp = pkt.dstV4;
      lowPort = pkt.dstPort;
      highIp = pkt.srcV4;
      highPort = pkt.srcPort;
    }
    for (let f = this.v4.get(tupleHash(udp, lowIp, lowPort, highIp, highPort)) ?? null; f !== null; f = f.hashNext) {
      const t = f.v4!;
      if (t.lowIp === lowIp && t.lowPort === lowPort && t.highIp === highIp && t.highPort === highPort && t.udp === udp) return f;
    }
    return undefined;
  }

  /** Indexes a new flow (its `v4` tuple set for IPv4, its `key` for the rest). */
  add(f: Flow): void {
    this.count++;
    const t = f.v4;
    if (t === null) {
      this.text.set(f.key, f);
      return;
    }
    const h = tupleHash(t.udp, t.lowIp, t.lowPort, t.highIp, t.highPort);
    f.hashNext = this.v4.get(h) ?? null;
    this.v4.set(h, f);
  }

  remove(f: Flow): void {
    const t = f.v4;
    if (t === null) {
      if (this.text.get(f.key) === f) {
        this.text.delete(f.key);
        this.count--;
      }
      return;
    }
    const h = tupleHash(t.udp, t.lowIp, t.lowPort, t.highIp, t.highPort);
    let prev: Flow | null = null;
    for (let cur = this.v4.get(h) ?? null; cur !== null; prev = cur, cur = cur.hashNext) {
      if (cur !== f) continue;
      if (prev !== null) prev.hashNext = cur.hashNext;
      else if (cur.hashNext !== null) this.v4.set(h, cur.hashNext);
      else this.v4.delete(h);
      cur.hashNext = null;
      this.count--;
      return;
    }
  }

  *values(): IterableIterator<Flow> {
    for (const head of this.v4.values()) {
      for (let f: Flow | null = head; f !== null; f = f.hashNext) yield f;
    }
    yield* this.text.values();
  }
}
