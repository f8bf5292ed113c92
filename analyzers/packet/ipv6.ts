/**
 * IPv6 header and extension-header walk (RFC 8200 section 4; AH per RFC 4302,
 * Mobility RFC 6275, HIP RFC 7401, Shim6 RFC 5533 share the generic length
 * format). Pure. The walk is bounded; fragments are counted and skipped as
 * for IPv4 (an atomic fragment, offset 0 without M, is walked through).
 */
import type { Counters } from '../counters.js';
import { ipv6Text } from './ip-text.js';
import type { NetworkLayer } from './network.js';
import { u16be } from './bytes.js';

/** Extension headers walked before giving up: real stacks use at most a handful; a bound keeps crafted chains cheap. */
export const MAX_IPV6_EXT_HEADERS = 8;

const HOP_BY_HOP = 0;
const ROUTING = 43;
const FRAGMENT = 44;
const AH = 51;
const NO_NEXT = 59;
const DEST_OPTS = 60;
const MOBILITY = 135;
const HIP = 139;
const SHIM6 = 140;

/** Fills `out` from the IPv6 header at `off` of a frame that ends at `frameEnd`; false (counted) when the packet is dropped. */
export function decodeIPv6(frame: Buffer, off: number, frameEnd: number, counters: Counters, out: NetworkLayer): boolean {
  if (frameEnd < off + 40) {
    counters.inc('ipv6.truncated');
    return false;
  }
  if (frame[off]! >> 4 !== 6) {
    counters.inc('ipv6.bad_version');
    return false;
  }
  const payloadLength = u16be(frame, off + 4);
  let next = frame[off + 6]!;
  if (payloadLength === 0 && next === HOP_BY_HOP) {
    // RFC 2675 jumbogram: never seen on links with MTU < 64 KiB; not worth parsing.
    counters.inc('ipv6.jumbogram');
    return false;
  }
  const end = off + 40 + payloadLength;
  if (frameEnd < end) {
    counters.inc('ipv6.truncated');
    return false;
  }
  let cur = off + 40;
  for (let walked = 0; ; walked++) {
    if (next === 6 || next === 17) break;
    if (walked >= MAX_IPV6_EXT_HEADERS) {
      counters.inc('ipv6.too_many_ext_headers');
      return false;
    }
    let len: number;
    switch (next) {
      case HOP_BY_HOP:
      case ROUTING:
      case DEST_OPTS:
      case MOBILITY:
      case HIP:
      case SHIM6:
        if (cur + 8 > end) return badExt(counters);
        len = (frame[cur + 1]! + 1) * 8;
        break;
      case AH:
        if (cur + 8 > end) return badExt(counters);
        len = (frame[cur + 1]! + 2) * 4;
        break;
      case FRAGMENT: {
        if (cur + 8 > end) return badExt(counters);
        const fragField = u16be(frame, cur + 2);
        if (fragField >> 3 !== 0) {
          counters.inc('ipv6.fragment_non_first');
          return false;
        }
        if ((fragField & 1) !== 0) {
          counters.inc('ipv6.fragment_first');
          return false;
        }
        len = 8;
        break;
      }
      case NO_NEXT:
        counters.inc('ipv6.no_next_header');
        return false;
      default:
        // ICMPv6, ESP and everything else that is not TCP/UDP.
        counters.inc('ipv6.other_protocol');
        return false;
    }
    next = frame[cur]!;
    cur += len;
    if (cur > end) return badExt(counters);
  }
  out.version = 6;
  out.protocol = next;
  out.src = ipv6Text(frame, off + 8);
  out.dst = ipv6Text(frame, off + 24);
  out.srcV4 = -1;
  out.dstV4 = -1;
  out.start = cur;
  out.end = end;
  return true;
}

function badExt(counters: Counters): false {
  counters.inc('ipv6.bad_ext_header');
  return false;
}
