/**
 * TCP (RFC 9293 section 3.1) and UDP (RFC 768) header decode into a
 * `DecodedPacket`. Pure; the payload is a view into the frame (no copy).
 * Checksums are not verified, for the offload reason given in ipv4.ts.
 */
import type { Counters } from '../counters.js';
import type { NetworkLayer } from './network.js';
import type { DecodedPacket } from './types.js';

/** Shared zero-length payload: pure ACKs are most packets, and need no view of their own. */
const EMPTY = Buffer.alloc(0);

export function decodeTcp(frame: Buffer, net: NetworkLayer, ts: number, counters: Counters): DecodedPacket | null {
  const off = net.start;
  if (net.end < off + 20) {
    counters.inc('tcp.truncated');
    return null;
  }
  const dataOffset = (frame.readUInt8(off + 12) >> 4) * 4;
  if (dataOffset < 20 || off + dataOffset > net.end) {
    counters.inc('tcp.bad_data_offset');
    return null;
  }
  const payloadStart = off + dataOffset;
  return packet(net, ts, 'tcp', frame, off, frame.readUInt32BE(off + 4), frame.readUInt32BE(off + 8), frame.readUInt8(off + 13), frame.readUInt16BE(off + 14), payloadStart, net.end);
}

export function decodeUdp(frame: Buffer, net: NetworkLayer, ts: number, counters: Counters): DecodedPacket | null {
  const off = net.start;
  if (net.end < off + 8) {
    counters.inc('udp.truncated');
    return null;
  }
  const length = frame.readUInt16BE(off + 4);
  if (length < 8) {
    counters.inc('udp.bad_length');
    return null;
  }
  if (off + length > net.end) {
    counters.inc('udp.length_exceeds_ip');
    return null;
  }
  return packet(net, ts, 'udp', frame, off, 0, 0, 0, 0, off + 8, off + length);
}

/** The decoded packet (one object shape for TCP and UDP): ports from the transport header at `off`, payload `[from, to)`. */
function packet(
  net: NetworkLayer,
  ts: number,
  transport: 'tcp' | 'udp',
  frame: Buffer,
  off: number,
  seq: number,
  ack: number,
  flags: number,
  window: number,
  from: number,
  to: number,
): DecodedPacket {
  return {
    ts,
    ipVersion: net.version,
    src: net.src,
    dst: net.dst,
    srcV4: net.srcV4,
    dstV4: net.dstV4,
    transport,
    srcPort: frame.readUInt16BE(off),
    dstPort: frame.readUInt16BE(off + 2),
    seq,
    ack,
    flags,
    window,
    payload: from === to ? EMPTY : frame.subarray(from, to),
  };
}
