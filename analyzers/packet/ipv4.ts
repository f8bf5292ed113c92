/**
 * IPv4 header decode (RFC 791). Pure. The header checksum is not verified:
 * with checksum offload, locally sent packets are captured before the NIC
 * fills it in, so a bad checksum says nothing about the wire. Fragments are
 * not reassembled (P2P directory traffic is TCP or small UDP): non-first
 * fragments and the first fragment of a fragmented datagram are counted and
 * skipped, and TCP reassembly sees the hole as a gap.
 */
import type { Counters } from '../counters.js';
import { ipv4TextOf } from './ip-text.js';
import type { NetworkLayer } from './network.js';
import { u16be, u32be } from './bytes.js';

/** Fills `out` from the IPv4 header at `off` of a frame that ends at `frameEnd`; false (counted) when the packet is dropped. */
export function decodeIPv4(frame: Buffer, off: number, frameEnd: number, counters: Counters, out: NetworkLayer): boolean {
  if (frameEnd < off + 20) {
    counters.inc('ipv4.truncated');
    return false;
  }
  const vihl = frame[off]!;
  if (vihl >> 4 !== 4) {
    counters.inc('ipv4.bad_version');
    return false;
  }
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20) {
    counters.inc('ipv4.bad_header_length');
    return false;
  }
  const totalLength = u16be(frame, off + 2);
  // Also catches total length 0, which TSO-offloaded captures show.
  if (totalLength < ihl) {
    counters.inc('ipv4.bad_total_length');
    return false;
  }
  // Shorter than the header says: cut by the snap length; a partial payload would corrupt the stream.
  if (frameEnd < off + totalLength) {
    counters.inc('ipv4.truncated');
    return false;
  }
  const frag = u16be(frame, off + 6);
  if ((frag & 0x1fff) !== 0) {
    counters.inc('ipv4.fragment_non_first');
    return false;
  }
  if ((frag & 0x2000) !== 0) {
    counters.inc('ipv4.fragment_first');
    return false;
  }
  out.version = 4;
  out.protocol = frame[off + 9]!;
  // Each address is read once, for both its number and its text.
  out.srcV4 = u32be(frame, off + 12);
  out.dstV4 = u32be(frame, off + 16);
  out.src = ipv4TextOf(out.srcV4);
  out.dst = ipv4TextOf(out.dstV4);
  out.start = off + ihl;
  // Bytes past the total length are Ethernet padding, not payload.
  out.end = off + totalLength;
  return true;
}
