/**
 * Packet decode: a captured frame → one `DecodedPacket` (TCP segment or UDP
 * datagram) or null. Link layer (link.ts) → IPv4/IPv6 (ipv4.ts, ipv6.ts) →
 * TCP/UDP (transport.ts). Pure: no I/O, no clock (the timestamp comes in),
 * never throws on bad bytes; each dropped packet is counted by a stable name
 * (Zeek's "weird" style), e.g. `packet.truncated_ethernet`, `tcp.bad_data_offset`.
 */
import type { Counters } from '../counters.js';
import { decodeIPv4 } from './ipv4.js';
import { decodeIPv6 } from './ipv6.js';
import { locateNetworkLayer } from './link.js';
import { emptyNetworkLayer, IPPROTO_TCP, IPPROTO_UDP } from './network.js';
import { decodeTcp, decodeUdp } from './transport.js';
import type { DecodedPacket } from './types.js';

/** Reused between calls: decode is synchronous, so the network-layer scratch never escapes. */
const net = emptyNetworkLayer();

/** `out`, when given, is filled and returned rather than a new object (see decodeTcp). */
export function decodePacket(linkType: number, frame: Buffer, ts: number, counters: Counters, out?: DecodedPacket): DecodedPacket | null {
  return decodeFrameBytes(linkType, frame, 0, frame.length, ts, counters, out);
}

/**
 * decodePacket of the frame at `bytes[start, end)`, e.g. a record inside a file's read buffer: the
 * capture layer hands frames on as offsets, since a view per frame cost more than its decode
 * (BENCHMARKS.md). The payload view is made of `bytes`.
 */
export function decodeFrameBytes(linkType: number, bytes: Buffer, start: number, end: number, ts: number, counters: Counters, out?: DecodedPacket): DecodedPacket | null {
  const loc = locateNetworkLayer(linkType, bytes, start, end, counters);
  if (loc === undefined) return null;
  const off = loc.offset;
  let version: number = loc.version;
  if (version === 0) {
    // Raw IP: the version nibble is all there is.
    if (end <= off) {
      counters.inc('packet.truncated_raw');
      return null;
    }
    version = bytes[off]! >> 4;
  }
  if (version === 4) {
    if (!decodeIPv4(bytes, off, end, counters, net)) return null;
  } else if (version === 6) {
    if (!decodeIPv6(bytes, off, end, counters, net)) return null;
  } else {
    counters.inc('packet.bad_ip_version');
    return null;
  }
  if (net.protocol === IPPROTO_TCP) return decodeTcp(bytes, net, ts, counters, out);
  if (net.protocol === IPPROTO_UDP) return decodeUdp(bytes, net, ts, counters, out);
  // ICMP, GRE, ESP, ...: not ours. (IPv6 counted its own in the header walk.)
  counters.inc('ipv4.other_protocol');
  return null;
}
