/**
 * Packet builder: well-formed frames (correct lengths and checksums) for
 * tests and for the benchmark's pcap generator. Link types as in types.ts;
 * IPv4 (RFC 791) with options and fragment fields, IPv6 (RFC 8200) with
 * extension headers, TCP (RFC 9293), UDP (RFC 768). Unlike the decoder this
 * is a programming API: an impossible spec throws InvalidPacketSpecError.
 */
import { InvalidPacketSpecError } from '../errors.js';
import { internetChecksum, pseudoHeaderSum } from './checksum.js';
import { parseIPv4, parseIPv6 } from './ip-parse.js';
import { IPPROTO_TCP, IPPROTO_UDP } from './network.js';
import { LinkType, TcpFlag } from './types.js';

export type LinkSpec =
  | { type: 'ethernet'; src?: string; dst?: string; vlans?: readonly VlanTag[] }
  | { type: 'sll' }
  | { type: 'sll2'; ifindex?: number }
  | { type: 'null'; byteOrder?: 'le' | 'be' }
  | { type: 'loop' }
  | { type: 'raw' };

export interface VlanTag {
  id: number;
  /** 0x8100 (802.1Q, default) or 0x88a8 (802.1ad S-tag). */
  tpid?: number;
}

export interface IpSpec {
  /** IPv4 dotted or IPv6 text; the version follows from it. */
  src: string;
  dst: string;
  ttl?: number;
  /** IPv4 identification / IPv6 fragment id. */
  id?: number;
  /** Fragment offset in bytes (a multiple of 8). */
  fragmentOffset?: number;
  moreFragments?: boolean;
  /** IPv4 options, padded to a multiple of 4. */
  options?: Buffer;
  /** IPv6 extension headers, in order, before the transport header. */
  extHeaders?: readonly Ipv6ExtHeader[];
}

export type Ipv6ExtHeader =
  | { type: 0 | 43 | 60; body?: Buffer } // hop-by-hop, routing, destination options: body padded to 8n+6
  | { type: 44; offset?: number; more?: boolean; id?: number } // fragment
  | { type: 51; body?: Buffer }; // AH: body padded to 4n+2

export interface TcpSpec {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  /** `TcpFlag` bits; default ACK. */
  flags?: number;
  window?: number;
  /** TCP options, padded to a multiple of 4. */
  options?: Buffer;
  payload?: Buffer | string;
}

export interface UdpSpec {
  srcPort: number;
  dstPort: number;
  payload?: Buffer | string;
}

export interface FrameSpec {
  link?: LinkSpec;
  ip: IpSpec;
  tcp?: TcpSpec;
  udp?: UdpSpec;
  /** Any other transport: protocol number and its bytes as they are. */
  other?: { protocol: number; bytes: Buffer };
}

/** The pcap link type a `LinkSpec` produces. */
export function linkTypeOf(link: LinkSpec = { type: 'ethernet' }): number {
  switch (link.type) {
    case 'ethernet':
      return LinkType.EN10MB;
    case 'sll':
      return LinkType.LINUX_SLL;
    case 'sll2':
      return LinkType.LINUX_SLL2;
    case 'null':
      return LinkType.NULL;
    case 'loop':
      return LinkType.LOOP;
    case 'raw':
      return LinkType.RAW;
  }
}

/** A complete frame for `spec` (link header, IP, transport, payload). */
export function buildFrame(spec: FrameSpec): Buffer {
  const v6 = spec.ip.src.includes(':');
  const src = address(spec.ip.src, v6);
  const dst = address(spec.ip.dst, v6);
  let protocol: number;
  let l4: Buffer;
  if (spec.tcp !== undefined) {
    protocol = IPPROTO_TCP;
    l4 = buildTcp(src, dst, spec.tcp);
  } else if (spec.udp !== undefined) {
    protocol = IPPROTO_UDP;
    l4 = buildUdp(src, dst, spec.udp);
  } else if (spec.other !== undefined) {
    protocol = spec.other.protocol;
    l4 = spec.other.bytes;
  } else {
    throw new InvalidPacketSpecError('frame spec needs tcp, udp or other');
  }
  const ip = v6 ? buildIPv6(spec.ip, src, dst, protocol, l4) : buildIPv4(spec.ip, src, dst, protocol, l4);
  return wrapLink(spec.link ?? { type: 'ethernet' }, ip, v6);
}

export function buildEthernetIPv4Tcp(ip: IpSpec, tcp: TcpSpec, link?: LinkSpec): Buffer {
  return buildFrame({ link: link ?? { type: 'ethernet' }, ip, tcp });
}

export function buildEthernetIPv4Udp(ip: IpSpec, udp: UdpSpec, link?: LinkSpec): Buffer {
  return buildFrame({ link: link ?? { type: 'ethernet' }, ip, udp });
}

export function buildEthernetIPv6Tcp(ip: IpSpec, tcp: TcpSpec, link?: LinkSpec): Buffer {
  return buildFrame({ link: link ?? { type: 'ethernet' }, ip, tcp });
}

/** A raw IPv6 UDP packet (link type RAW unless `link` says otherwise). */
export function buildIPv6Udp(ip: IpSpec, udp: UdpSpec, link?: LinkSpec): Buffer {
  return buildFrame({ link: link ?? { type: 'raw' }, ip, udp });
}

function address(text: string, v6: boolean): Buffer {
  const bytes = v6 ? parseIPv6(text) : parseIPv4(text);
  if (bytes === undefined) throw new InvalidPacketSpecError(`bad IPv${v6 ? 6 : 4} address "${text}"`);
  return bytes;
}

function toBuffer(payload: Buffer | string | undefined): Buffer {
  if (payload === undefined) return Buffer.alloc(0);
  return typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
}

function padTo(buf: Buffer, multiple: number, remainder = 0): Buffer {
  const pad = (multiple - ((buf.length - remainder) % multiple)) % multiple;
  return pad === 0 ? buf : Buffer.concat([buf, Buffer.alloc(pad)]);
}

export function buildTcp(src: Buffer, dst: Buffer, spec: TcpSpec): Buffer {
  const options = padTo(spec.options ?? Buffer.alloc(0), 4);
  const payload = toBuffer(spec.payload);
  const headerLength = 20 + options.length;
  if (headerLength > 60) throw new InvalidPacketSpecError('TCP options longer than 40 bytes');
  const seg = Buffer.alloc(headerLength + payload.length);
  seg.writeUInt16BE(spec.srcPort, 0);
  seg.writeUInt16BE(spec.dstPort, 2);
  seg.writeUInt32BE((spec.seq ?? 0) >>> 0, 4);
  seg.writeUInt32BE((spec.ack ?? 0) >>> 0, 8);
  seg[12] = (headerLength / 4) << 4;
  seg[13] = spec.flags ?? TcpFlag.ACK;
  seg.writeUInt16BE(spec.window ?? 65535, 14);
  options.copy(seg, 20);
  payload.copy(seg, headerLength);
  seg.writeUInt16BE(internetChecksum(seg, pseudoHeaderSum(src, dst, IPPROTO_TCP, seg.length)), 16);
  return seg;
}

export function buildUdp(src: Buffer, dst: Buffer, spec: UdpSpec): Buffer {
  const payload = toBuffer(spec.payload);
  if (payload.length + 8 > 0xffff) throw new InvalidPacketSpecError('UDP payload too long');
  const dgram = Buffer.alloc(8 + payload.length);
  dgram.writeUInt16BE(spec.srcPort, 0);
  dgram.writeUInt16BE(spec.dstPort, 2);
  dgram.writeUInt16BE(dgram.length, 4);
  payload.copy(dgram, 8);
  // A computed 0 is sent as 0xffff (0 means "no checksum" in IPv4, RFC 768).
  dgram.writeUInt16BE(internetChecksum(dgram, pseudoHeaderSum(src, dst, IPPROTO_UDP, dgram.length)) || 0xffff, 6);
  return dgram;
}

export function buildIPv4(spec: IpSpec, src: Buffer, dst: Buffer, protocol: number, l4: Buffer): Buffer {
  const options = padTo(spec.options ?? Buffer.alloc(0), 4);
  const ihl = 20 + options.length;
  if (ihl > 60) throw new InvalidPacketSpecError('IPv4 options longer than 40 bytes');
  const total = ihl + l4.length;
  if (total > 0xffff) throw new InvalidPacketSpecError('IPv4 packet longer than 65535 bytes');
  const offset = spec.fragmentOffset ?? 0;
  if (offset % 8 !== 0) throw new InvalidPacketSpecError('fragment offset must be a multiple of 8');
  const pkt = Buffer.alloc(total);
  pkt[0] = 0x40 | (ihl / 4);
  pkt.writeUInt16BE(total, 2);
  pkt.writeUInt16BE((spec.id ?? 0) & 0xffff, 4);
  pkt.writeUInt16BE((spec.moreFragments === true ? 0x2000 : 0) | (offset / 8), 6);
  pkt[8] = spec.ttl ?? 64;
  pkt[9] = protocol;
  src.copy(pkt, 12);
  dst.copy(pkt, 16);
  options.copy(pkt, 20);
  pkt.writeUInt16BE(internetChecksum(pkt.subarray(0, ihl)), 10);
  l4.copy(pkt, ihl);
  return pkt;
}

export function buildIPv6(spec: IpSpec, src: Buffer, dst: Buffer, protocol: number, l4: Buffer): Buffer {
  const exts = spec.extHeaders ?? [];
  const parts: Buffer[] = [];
  for (let i = 0; i < exts.length; i++) {
    const ext = exts[i];
    if (ext === undefined) continue;
    const next = exts[i + 1]?.type ?? protocol;
    if (ext.type === 44) {
      const h = Buffer.alloc(8);
      h[0] = next;
      h.writeUInt16BE(((ext.offset ?? 0) & ~7) | (ext.more === true ? 1 : 0), 2);
      h.writeUInt32BE((ext.id ?? 0) >>> 0, 4);
      parts.push(h);
    } else if (ext.type === 51) {
      const body = padTo(ext.body ?? Buffer.alloc(10), 4, 2);
      const h = Buffer.concat([Buffer.from([next, (body.length + 2) / 4 - 2]), body]);
      parts.push(h);
    } else {
      const body = padTo(ext.body ?? Buffer.alloc(6), 8, 6);
      parts.push(Buffer.concat([Buffer.from([next, (body.length + 2) / 8 - 1]), body]));
    }
  }
  const ext = Buffer.concat(parts);
  const payloadLength = ext.length + l4.length;
  if (payloadLength > 0xffff) throw new InvalidPacketSpecError('IPv6 payload longer than 65535 bytes');
  const hdr = Buffer.alloc(40);
  hdr[0] = 0x60;
  hdr.writeUInt16BE(payloadLength, 4);
  hdr[6] = exts[0]?.type ?? protocol;
  hdr[7] = spec.ttl ?? 64;
  src.copy(hdr, 8);
  dst.copy(hdr, 24);
  return Buffer.concat([hdr, ext, l4]);
}

/** Puts the link-layer header `link` in front of an IP packet. */
export function wrapLink(link: LinkSpec, ip: Buffer, v6: boolean): Buffer {
  const ethertype = v6 ? 0x86dd : 0x0800;
  switch (link.type) {
    case 'ethernet': {
      const vlans = link.vlans ?? [];
      const hdr = Buffer.alloc(14 + vlans.length * 4);
      mac(link.dst ?? '02:00:00:00:00:02').copy(hdr, 0);
      mac(link.src ?? '02:00:00:00:00:01').copy(hdr, 6);
      let off = 12;
      for (const tag of vlans) {
        hdr.writeUInt16BE(tag.tpid ?? 0x8100, off);
        hdr.writeUInt16BE(tag.id & 0x0fff, off + 2);
        off += 4;
      }
      hdr.writeUInt16BE(ethertype, off);
      return Buffer.concat([hdr, ip]);
    }
    case 'sll': {
      const hdr = Buffer.alloc(16);
      hdr.writeUInt16BE(0, 0); // packet type: to us
      hdr.writeUInt16BE(1, 2); // ARPHRD_ETHER
      hdr.writeUInt16BE(6, 4);
      mac('02:00:00:00:00:01').copy(hdr, 6);
      hdr.writeUInt16BE(ethertype, 14);
      return Buffer.concat([hdr, ip]);
    }
    case 'sll2': {
      const hdr = Buffer.alloc(20);
      hdr.writeUInt16BE(ethertype, 0);
      hdr.writeUInt32BE(link.ifindex ?? 1, 4);
      hdr.writeUInt16BE(1, 8); // ARPHRD_ETHER
      hdr[10] = 0;
      hdr[11] = 6;
      mac('02:00:00:00:00:01').copy(hdr, 12);
      return Buffer.concat([hdr, ip]);
    }
    case 'null':
    case 'loop': {
      const hdr = Buffer.alloc(4);
      const family = v6 ? 10 : 2;
      if (link.type === 'loop' || link.byteOrder === 'be') hdr.writeUInt32BE(family, 0);
      else hdr.writeUInt32LE(family, 0);
      return Buffer.concat([hdr, ip]);
    }
    case 'raw':
      return ip;
  }
}

function mac(text: string): Buffer {
  const bytes = text.split(':').map((h) => parseInt(h, 16));
  if (bytes.length !== 6 || bytes.some((b) => !(b >= 0 && b <= 255))) {
    throw new InvalidPacketSpecError(`bad MAC address "${text}"`);
  }
  return Buffer.from(bytes);
}
