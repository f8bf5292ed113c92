/**
 * What the network-layer decoders (ipv4.ts, ipv6.ts) hand to the transport
 * decoders: addresses, the transport protocol number and where its bytes are.
 * Filled into a caller-owned object so a packet costs no extra allocation.
 */
export interface NetworkLayer {
  version: 4 | 6;
  src: string;
  dst: string;
  /** uint32 IPv4 addresses; -1 for IPv6. */
  srcV4: number;
  dstV4: number;
  /** IANA protocol number of the transport header (6 TCP, 17 UDP). */
  protocol: number;
  /** Transport header offset in the frame. */
  start: number;
  /** End of the IP payload in the frame (excludes link-layer padding). */
  end: number;
}

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export function emptyNetworkLayer(): NetworkLayer {
  return { version: 4, src: '', dst: '', srcV4: -1, dstV4: -1, protocol: 0, start: 0, end: 0 };
}
