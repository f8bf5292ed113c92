/**
 * The decoded form of one captured packet, as handed from packet decode to
 * the flow table. Link-layer type numbers follow the tcpdump.org LINKTYPE /
 * DLT registry (https://www.tcpdump.org/linktypes.html).
 */

/** pcap link-layer header types this decoder understands. */
export const LinkType = {
  NULL: 0, // BSD loopback, 4-byte address family in the capturing host's byte order
  EN10MB: 1, // Ethernet II, with optional 802.1Q / 802.1ad tags
  RAW_OPENBSD: 12, // DLT_RAW as numbered on some BSDs
  RAW_BSDOS: 14, // DLT_RAW as numbered on BSD/OS
  RAW: 101, // LINKTYPE_RAW: the frame starts at the IP header
  LOOP: 108, // OpenBSD loopback, address family in network byte order
  LINUX_SLL: 113, // Linux "cooked" capture v1 (`any` interface)
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276, // Linux "cooked" capture v2
} as const;

/** TCP header flag bits (RFC 9293 section 3.1). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/**
 * One TCP segment or UDP datagram. All packets share one object shape (UDP
 * sets the TCP-only fields to 0) so the hot path stays monomorphic.
 * The payload is `bytes[payloadStart, payloadEnd)`, where `bytes` holds the
 * captured frame: no view is made per packet (that cost more than the rest of
 * its decode, BENCHMARKS.md); `payloadOf` makes one where a Buffer is wanted.
 * The bytes are only valid until the capture layer reuses its buffer, so keep
 * a copy to hold them longer.
 */
export interface DecodedPacket {
  /** Capture timestamp, milliseconds since the epoch (fractional). */
  ts: number;
  ipVersion: 4 | 6;
  /** Dotted IPv4 or RFC 5952 canonical IPv6 text. */
  src: string;
  dst: string;
  /** The IPv4 addresses as uint32 (the flow table keys on numbers); -1 for IPv6. */
  srcV4: number;
  dstV4: number;
  transport: 'tcp' | 'udp';
  srcPort: number;
  dstPort: number;
  /** TCP sequence number (uint32); 0 for UDP. */
  seq: number;
  /** TCP acknowledgement number (uint32); 0 for UDP. */
  ack: number;
  /** TCP flag bits (`TcpFlag`); 0 for UDP. */
  flags: number;
  /** TCP window field, unscaled; 0 for UDP. */
  window: number;
  /** The buffer the frame lies in (the capture layer's), and where the payload lies in it. */
  bytes: Buffer;
  payloadStart: number;
  payloadEnd: number;
}

/** The payload of `pkt` as a view of its bytes (no copy). */
export function payloadOf(pkt: DecodedPacket): Buffer {
  return pkt.bytes.subarray(pkt.payloadStart, pkt.payloadEnd);
}
