/**
 * Test support: builds Ethernet frames (optionally 802.1Q-tagged) carrying
 * IPv4/IPv6 with TCP/UDP, following RFC 791, RFC 8200, RFC 9293 and RFC 768
 * header layouts. Checksums are left zero: BPF filters and our parsers under
 * test do not check them.
 */
import { isIPv4 } from 'node:net';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail = ''] = ip.includes('::') ? ip.split('::') : [ip, ''];
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

export function tcpSegment(sport: number, dport: number, flags: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(1000, 4);
  h.writeUInt32BE(flags & TCP_ACK ? 2000 : 0, 8);
  h[12] = 5 << 4;
  h[13] = flags;
  h.writeUInt16BE(65535, 14);
  return Buffer.concat([h, payload]);
}

export function udpDatagram(sport: number, dport: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** IPv4 or IPv6 packet (chosen by the source address) carrying `l4` with protocol number `proto`. */
export function ipPacket(src: string, dst: string, proto: number, l4: Buffer, opts: { fragmentOffset?: number } = {}): Buffer {
  if (isIPv4(src)) {
    const h = Buffer.alloc(20);
    h[0] = 0x45;
    h.writeUInt16BE(20 + l4.length, 2);
    h.writeUInt16BE((opts.fragmentOffset ?? 0) & 0x1fff, 6);
    h[8] = 64;
    h[9] = proto;
    ipv4Bytes(src).copy(h, 12);
    ipv4Bytes(dst).copy(h, 16);
    return Buffer.concat([h, l4]);
  }
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(l4.length, 4);
  h[6] = proto;
  h[7] = 64;
  ipv6Bytes(src).copy(h, 8);
  ipv6Bytes(dst).copy(h, 24);
  return Buffer.concat([h, l4]);
}

/** Ethernet II frame around an IP packet; `vlan` adds an 802.1Q tag with that VLAN id. */
export function ethernetFrame(ipPkt: Buffer, opts: { vlan?: number } = {}): Buffer {
  const v6 = ((ipPkt[0] ?? 0) >> 4) === 6;
  const macs = Buffer.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
  const type = Buffer.alloc(2);
  type.writeUInt16BE(v6 ? 0x86dd : 0x0800, 0);
  if (opts.vlan === undefined) return Buffer.concat([macs, type, ipPkt]);
  const tag = Buffer.alloc(4);
  tag.writeUInt16BE(0x8100, 0);
  tag.writeUInt16BE(opts.vlan & 0x0fff, 2);
  return Buffer.concat([macs, tag, type, ipPkt]);
}

export function tcpFrame(src: string, sport: number, dst: string, dport: number, flags: number, payload?: Buffer, opts: { vlan?: number } = {}): Buffer {
  return ethernetFrame(ipPacket(src, dst, 6, tcpSegment(sport, dport, flags, payload)), opts);
}

export function udpFrame(src: string, sport: number, dst: string, dport: number, payload?: Buffer, opts: { vlan?: number } = {}): Buffer {
  return ethernetFrame(ipPacket(src, dst, 17, udpDatagram(sport, dport, payload)), opts);
}
