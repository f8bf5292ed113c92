/**
 * TCP (RFC 9293 section 3.1) and UDP (RFC 768) header decode into a
 * `DecodedPacket`. Pure; the payload is given as offsets into the frame's bytes (no copy, no view).
 * Checksums are not verified, for the offload reason given in ipv4.ts.
 */
import type { Counters } from '../counters.js';
import type { NetworkLayer } from './network.js';
import type { DecodedPacket } from './types.js';
import { u16be, u32be } from './bytes.js';

/** The bytes of a packet not decoded yet (emptyDecodedPacket). */
const EMPTY = Buffer.alloc(0);

/**
 * `out`, when given, is filled and returned instead of a new object: the pipeline decodes every
 * packet into one scratch object (the flow table never keeps it), which spares an object and its
 * timestamp's heap number per packet.
 */
export function decodeTcp(frame: Buffer, net: NetworkLayer, ts: number, counters: Counters, out?: DecodedPacket): DecodedPacket | null {
  const off = net.start;
  if (net.end < off + 20) {
    counters.inc('tcp.truncated');
    return null;
  }
  const dataOffset = (frame[off + 12]! >> 4) * 4;
  if (dataOffset < 20 || off + dataOffset > net.end) {
    counters.inc('tcp.bad_data_offset');
    return null;
  }
  const payloadStart = off + dataOffset;
  return packet(net, ts, 'tcp', frame, off, u32be(frame, off + 4), u32be(frame, off + 8), frame[off + 13]!, u16be(frame, off + 14), payloadStart, net.end, out);
}

/** As decodeTcp, `out` is filled when given. */
export function decodeUdp(frame: Buffer, net: NetworkLayer, ts: number, counters: Counters, out?: DecodedPacket): DecodedPacket | null {
  const off = net.start;
  if (net.end < off + 8) {
    counters.inc('udp.truncated');
    return null;
  }
  const length = u16be(frame, off + 4);
  if (length < 8) {
    counters.inc('udp.bad_length');
    return null;
  }
  if (off + length > net.end) {
    counters.inc('udp.length_exceeds_ip');
    return null;
  }
  return packet(net, ts, 'udp', frame, off, 0, 0, 0, 0, off + 8, off + length, out);
}

/** A DecodedPacket to decode into (`out` of decodePacket), of the same shape `packet` builds. */
export function emptyDecodedPacket(): DecodedPacket {
  return {
    ts: 0.5, ipVersion: 4, src: '', dst: '', srcV4: -1, dstV4: -1, transport: 'tcp', srcPort: 0, dstPort: 0,
    seq: 0, ack: 0, flags: 0, window: 0, bytes: EMPTY, payloadStart: 0, payloadEnd: 0,
  };
}

/** The decoded packet (one object shape for TCP and UDP): ports from the transport header at `off`, payload `[from, to)`; into `out` when given. */
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
  out: DecodedPacket | undefined,
): DecodedPacket {
  const pkt = out ?? emptyDecodedPacket();
  pkt.ts = ts;
  pkt.ipVersion = net.version;
  pkt.src = net.src;
  pkt.dst = net.dst;
  pkt.srcV4 = net.srcV4;
  pkt.dstV4 = net.dstV4;
  pkt.transport = transport;
  pkt.srcPort = u16be(frame, off);
  pkt.dstPort = u16be(frame, off + 2);
  pkt.seq = seq;
  pkt.ack = ack;
  pkt.flags = flags;
  pkt.window = window;
  pkt.bytes = frame;
  pkt.payloadStart = from;
  pkt.payloadEnd = to;
  return pkt;
}
