/**
 * Link layer: finds where the IP header starts in a captured frame, for the
 * link types in `LinkType` (tcpdump.org linktypes registry; Ethernet II with
 * IEEE 802.1Q / 802.1ad tags, Linux SLL / SLL2 cooked headers, raw IP,
 * BSD NULL / LOOP). Pure; each malformed or non-IP frame is counted and
 * dropped.
 */
import type { Counters } from '../counters.js';
import { LinkType } from './types.js';
import { u16be } from './bytes.js';

/** Stacked VLAN tags followed before giving up: QinQ uses 2, a bound keeps hostile stacks cheap. */
export const MAX_VLAN_TAGS = 4;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100; // 802.1Q C-tag
const ETHERTYPE_QINQ = 0x88a8; // 802.1ad S-tag
const ETHERTYPE_QINQ_OLD = 0x9100; // pre-standard QinQ, still seen in the wild

/** BSD address families that mean IPv6 (Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30). */
const AF_INET6_VALUES = new Set([10, 24, 28, 30]);
const AF_INET = 2;

/** Where the network layer starts and which IP version the link layer announced (0: read the header). */
export interface NetworkLocation {
  offset: number;
  version: 0 | 4 | 6;
}

/** Reused result holder: the decoder is synchronous and single-threaded, so one suffices (no per-packet allocation). */
const loc: NetworkLocation = { offset: 0, version: 0 };

/**
 * The network-layer location (an offset into `bytes`) of the frame at
 * `bytes[start, end)`, or undefined when the frame is not IP or is malformed
 * (counted). The returned object is reused by the next call.
 */
export function locateNetworkLayer(linkType: number, bytes: Buffer, start: number, end: number, counters: Counters): NetworkLocation | undefined {
  const length = end - start;
  switch (linkType) {
    case LinkType.EN10MB:
      if (length < 14) {
        counters.inc('packet.truncated_ethernet');
        return undefined;
      }
      return afterEthertype(bytes, start + 12, end, counters);
    case LinkType.LINUX_SLL:
      if (length < 16) {
        counters.inc('packet.truncated_sll');
        return undefined;
      }
      return afterEthertype(bytes, start + 14, end, counters);
    case LinkType.LINUX_SLL2:
      if (length < 20) {
        counters.inc('packet.truncated_sll2');
        return undefined;
      }
      // SLL2 puts the protocol first; the payload starts after the 20-byte header.
      return fromEthertype(bytes, u16be(bytes, start), start + 20, end, counters);
    case LinkType.RAW:
    case LinkType.RAW_OPENBSD:
    case LinkType.RAW_BSDOS:
      return found(start, 0);
    case LinkType.IPV4:
      return found(start, 4);
    case LinkType.IPV6:
      return found(start, 6);
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (length < 4) {
        counters.inc('packet.truncated_null');
        return undefined;
      }
      // NULL stores the family in the capturing host's byte order: a small
      // value has its non-zero byte at one end, which tells the order.
      const family =
        linkType === LinkType.LOOP || (bytes[start] === 0 && bytes[start + 1] === 0) ? bytes.readUInt32BE(start) : bytes.readUInt32LE(start);
      if (family === AF_INET) return found(start + 4, 4);
      if (AF_INET6_VALUES.has(family)) return found(start + 4, 6);
      counters.inc('packet.non_ip');
      return undefined;
    }
    default:
      counters.inc('packet.unsupported_link_type');
      return undefined;
  }
}

/** Reads the ethertype at `off` (Ethernet's type/length field or SLL's protocol) and follows VLAN tags. */
function afterEthertype(frame: Buffer, off: number, end: number, counters: Counters): NetworkLocation | undefined {
  return fromEthertype(frame, u16be(frame, off), off + 2, end, counters);
}

/** Follows VLAN tags (libpcap re-inserts them into cooked headers too) to the IP ethertype; the frame ends at `end`. */
function fromEthertype(frame: Buffer, first: number, payloadOff: number, end: number, counters: Counters): NetworkLocation | undefined {
  let type = first;
  let off = payloadOff;
  let tags = 0;
  while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
    if (++tags > MAX_VLAN_TAGS) {
      counters.inc('packet.too_many_vlan_tags');
      return undefined;
    }
    // A tag is 2 bytes of TCI then the inner ethertype.
    if (end < off + 4) {
      counters.inc('packet.truncated_vlan');
      return undefined;
    }
    type = u16be(frame, off + 2);
    off += 4;
  }
  if (type === ETHERTYPE_IPV4) return found(off, 4);
  if (type === ETHERTYPE_IPV6) return found(off, 6);
  // ARP, LLDP, 802.3 length fields (< 0x0600) and every other protocol.
  counters.inc('packet.non_ip');
  return undefined;
}

function found(offset: number, version: 0 | 4 | 6): NetworkLocation {
  loc.offset = offset;
  loc.version = version;
  return loc;
}
