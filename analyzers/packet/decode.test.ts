import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Counters } from '../counters.js';
import type { FrameSpec, LinkSpec } from './build.js';
import { buildFrame, linkTypeOf } from './build.js';
import { internetChecksum, onesSum } from './checksum.js';
import { decodeFrameBytes, decodePacket } from './decode.js';
import { emptyDecodedPacket } from './transport.js';
import { LinkType, payloadOf, TcpFlag } from './types.js';

const v4 = { src: '10.0.0.1', dst: '10.0.0.2' };
const v6 = { src: '2001:db8::1', dst: '2001:db8::2' };
const tcp = { srcPort: 40000, dstPort: 8888, seq: 0xfffffff0, ack: 7, flags: TcpFlag.ACK | TcpFlag.PSH, window: 512, payload: 'hello' };
const udp = { srcPort: 6881, dstPort: 6882, payload: 'd1:ad2:id20:e' };

function decode(spec: FrameSpec) {
  const counters = new Counters();
  const pkt = decodePacket(linkTypeOf(spec.link), buildFrame(spec), 1234.5, counters);
  return { pkt, counters: counters.snapshot() };
}

describe('decodePacket: link types', () => {
  const links: [string, LinkSpec][] = [
    ['ethernet', { type: 'ethernet' }],
    ['802.1Q', { type: 'ethernet', vlans: [{ id: 10 }] }],
    ['802.1ad + 802.1Q', { type: 'ethernet', vlans: [{ id: 100, tpid: 0x88a8 }, { id: 10 }] }],
    ['SLL', { type: 'sll' }],
    ['SLL2', { type: 'sll2' }],
    ['raw', { type: 'raw' }],
    ['NULL little-endian', { type: 'null', byteOrder: 'le' }],
    ['NULL big-endian', { type: 'null', byteOrder: 'be' }],
    ['LOOP', { type: 'loop' }],
  ];
  it.each(links)('%s IPv4 TCP', (_name, link) => {
    const { pkt, counters } = decode({ link, ip: v4, tcp });
    expect(counters).toEqual({});
    expect(pkt).toEqual({
      ts: 1234.5,
      ipVersion: 4,
      src: '10.0.0.1',
      dst: '10.0.0.2',
      srcV4: 0x0a000001,
      dstV4: 0x0a000002,
      transport: 'tcp',
      srcPort: 40000,
      dstPort: 8888,
      seq: 0xfffffff0,
      ack: 7,
      flags: TcpFlag.ACK | TcpFlag.PSH,
      window: 512,
      bytes: expect.any(Buffer),
      payloadStart: expect.any(Number),
      payloadEnd: expect.any(Number),
    });
    expect(payloadOf(pkt!)).toEqual(Buffer.from('hello'));
  });
  it.each(links)('%s IPv6 UDP', (_name, link) => {
    const { pkt, counters } = decode({ link, ip: v6, udp });
    expect(counters).toEqual({});
    expect(pkt).toMatchObject({ ipVersion: 6, src: '2001:db8::1', dst: '2001:db8::2', srcV4: -1, dstV4: -1, transport: 'udp', srcPort: 6881, dstPort: 6882, seq: 0, flags: 0 });
    expect(payloadOf(pkt!).toString()).toBe(udp.payload);
  });
  it('DLT_RAW numbered 12 and 14, and LINKTYPE_IPV4/IPV6', () => {
    const raw4 = buildFrame({ link: { type: 'raw' }, ip: v4, tcp });
    const raw6 = buildFrame({ link: { type: 'raw' }, ip: v6, tcp });
    const c = new Counters();
    expect(decodePacket(LinkType.RAW_OPENBSD, raw4, 0, c)?.src).toBe('10.0.0.1');
    expect(decodePacket(LinkType.RAW_BSDOS, raw6, 0, c)?.src).toBe('2001:db8::1');
    expect(decodePacket(LinkType.IPV4, raw4, 0, c)?.dst).toBe('10.0.0.2');
    expect(decodePacket(LinkType.IPV6, raw6, 0, c)?.dst).toBe('2001:db8::2');
    expect(decodePacket(LinkType.IPV6, raw4, 0, c)).toBeNull();
    expect(c.snapshot()).toEqual({ 'ipv6.bad_version': 1 });
  });
  it('payload is a span of the frame, not a copy', () => {
    const frame = buildFrame({ ip: v4, tcp });
    const pkt = decodePacket(LinkType.EN10MB, frame, 0, new Counters());
    expect(pkt?.bytes).toBe(frame);
    expect(payloadOf(pkt!).buffer).toBe(frame.buffer);
    expect(frame.subarray(pkt!.payloadStart, pkt!.payloadEnd).toString()).toBe('hello');
  });
  it('trims Ethernet padding using the IP total length', () => {
    const frame = Buffer.concat([buildFrame({ ip: v4, tcp: { ...tcp, payload: 'x' } }), Buffer.alloc(6)]);
    expect(payloadOf(decodePacket(LinkType.EN10MB, frame, 0, new Counters())!).toString()).toBe('x');
  });
  it('pure ACK has an empty payload', () => {
    const { pkt } = decode({ ip: v4, tcp: { ...tcp, payload: undefined } });
    expect(payloadOf(pkt!).length).toBe(0);
  });
});

describe('decodePacket: IPv4 options, IPv6 extension headers', () => {
  it('skips IPv4 options (IHL > 5)', () => {
    const { pkt } = decode({ ip: { ...v4, options: Buffer.from([1, 1, 1, 1, 1, 1, 1, 1]) }, tcp });
    expect(payloadOf(pkt!).toString()).toBe('hello');
  });
  it('walks hop-by-hop, routing, destination options, AH and an atomic fragment header', () => {
    const { pkt, counters } = decode({
      ip: {
        ...v6,
        extHeaders: [{ type: 0 }, { type: 43, body: Buffer.alloc(22) }, { type: 51 }, { type: 44 }, { type: 60 }],
      },
      tcp,
    });
    expect(counters).toEqual({});
    expect(payloadOf(pkt!).toString()).toBe('hello');
    expect(pkt?.srcPort).toBe(40000);
  });
});

describe('decodePacket: malformed and skipped packets are counted and dropped', () => {
  const good4 = () => buildFrame({ ip: v4, tcp });
  const good6 = () => buildFrame({ ip: v6, tcp });
  const mutate = (frame: Buffer, f: (b: Buffer) => void): Buffer => {
    const copy = Buffer.from(frame);
    f(copy);
    return copy;
  };
  const cases: [string, number, Buffer, string][] = [
    ['short ethernet', LinkType.EN10MB, Buffer.alloc(13), 'packet.truncated_ethernet'],
    ['ARP', LinkType.EN10MB, mutate(good4(), (b) => b.writeUInt16BE(0x0806, 12)), 'packet.non_ip'],
    ['truncated VLAN tag', LinkType.EN10MB, Buffer.from('0000000000000000000000008100000a', 'hex'), 'packet.truncated_vlan'],
    [
      'five stacked VLAN tags',
      LinkType.EN10MB,
      buildFrame({ link: { type: 'ethernet', vlans: [1, 2, 3, 4, 5].map((id) => ({ id })) }, ip: v4, tcp }),
      'packet.too_many_vlan_tags',
    ],
    ['short SLL', LinkType.LINUX_SLL, Buffer.alloc(15), 'packet.truncated_sll'],
    ['short SLL2', LinkType.LINUX_SLL2, Buffer.alloc(19), 'packet.truncated_sll2'],
    ['short NULL', LinkType.NULL, Buffer.alloc(3), 'packet.truncated_null'],
    ['NULL with unknown family', LinkType.NULL, Buffer.from([7, 0, 0, 0]), 'packet.non_ip'],
    ['unknown link type', 147, good4(), 'packet.unsupported_link_type'],
    ['empty raw', LinkType.RAW, Buffer.alloc(0), 'packet.truncated_raw'],
    ['raw version 5', LinkType.RAW, Buffer.from([0x50, 0, 0, 0]), 'packet.bad_ip_version'],
    ['ethertype IPv4 with version 6', LinkType.EN10MB, mutate(good4(), (b) => (b[14] = 0x65)), 'ipv4.bad_version'],
    ['IPv4 header cut', LinkType.EN10MB, good4().subarray(0, 14 + 19), 'ipv4.truncated'],
    ['IPv4 IHL 4', LinkType.EN10MB, mutate(good4(), (b) => (b[14] = 0x44)), 'ipv4.bad_header_length'],
    ['IPv4 total length < IHL', LinkType.EN10MB, mutate(good4(), (b) => b.writeUInt16BE(19, 16)), 'ipv4.bad_total_length'],
    ['IPv4 total length 0 (TSO)', LinkType.EN10MB, mutate(good4(), (b) => b.writeUInt16BE(0, 16)), 'ipv4.bad_total_length'],
    ['IPv4 snap-length cut', LinkType.EN10MB, good4().subarray(0, good4().length - 1), 'ipv4.truncated'],
    ['IPv4 first fragment', LinkType.EN10MB, buildFrame({ ip: { ...v4, moreFragments: true }, tcp }), 'ipv4.fragment_first'],
    ['IPv4 later fragment', LinkType.EN10MB, buildFrame({ ip: { ...v4, fragmentOffset: 64 }, tcp }), 'ipv4.fragment_non_first'],
    ['ICMP', LinkType.EN10MB, buildFrame({ ip: v4, other: { protocol: 1, bytes: Buffer.alloc(8) } }), 'ipv4.other_protocol'],
    ['IPv6 header cut', LinkType.EN10MB, good6().subarray(0, 14 + 39), 'ipv6.truncated'],
    ['IPv6 payload cut', LinkType.EN10MB, good6().subarray(0, good6().length - 1), 'ipv6.truncated'],
    ['IPv6 jumbogram', LinkType.EN10MB, mutate(buildFrame({ ip: { ...v6, extHeaders: [{ type: 0 }] }, tcp }), (b) => b.writeUInt16BE(0, 18)), 'ipv6.jumbogram'],
    ['IPv6 first fragment', LinkType.EN10MB, buildFrame({ ip: { ...v6, extHeaders: [{ type: 44, more: true }] }, tcp }), 'ipv6.fragment_first'],
    ['IPv6 later fragment', LinkType.EN10MB, buildFrame({ ip: { ...v6, extHeaders: [{ type: 44, offset: 8 }] }, tcp }), 'ipv6.fragment_non_first'],
    [
      'IPv6 nine extension headers',
      LinkType.EN10MB,
      buildFrame({ ip: { ...v6, extHeaders: Array.from({ length: 9 }, () => ({ type: 60 as const })) }, tcp }),
      'ipv6.too_many_ext_headers',
    ],
    [
      'IPv6 extension header longer than payload',
      LinkType.EN10MB,
      mutate(buildFrame({ ip: { ...v6, extHeaders: [{ type: 60 }] }, tcp }), (b) => (b[54 + 1] = 200)),
      'ipv6.bad_ext_header',
    ],
    ['ICMPv6', LinkType.EN10MB, buildFrame({ ip: v6, other: { protocol: 58, bytes: Buffer.alloc(8) } }), 'ipv6.other_protocol'],
    ['IPv6 no next header', LinkType.EN10MB, buildFrame({ ip: v6, other: { protocol: 59, bytes: Buffer.alloc(0) } }), 'ipv6.no_next_header'],
    ['TCP header cut', LinkType.RAW, buildFrame({ link: { type: 'raw' }, ip: v4, other: { protocol: 6, bytes: Buffer.alloc(19) } }), 'tcp.truncated'],
    ['TCP data offset 4', LinkType.EN10MB, mutate(good4(), (b) => (b[14 + 20 + 12] = 0x40)), 'tcp.bad_data_offset'],
    ['TCP data offset past the segment', LinkType.EN10MB, mutate(good4(), (b) => (b[14 + 20 + 12] = 0xf0)), 'tcp.bad_data_offset'],
    ['UDP header cut', LinkType.RAW, buildFrame({ link: { type: 'raw' }, ip: v4, other: { protocol: 17, bytes: Buffer.alloc(7) } }), 'udp.truncated'],
    ['UDP length 7', LinkType.EN10MB, mutate(buildFrame({ ip: v4, udp }), (b) => b.writeUInt16BE(7, 14 + 20 + 4)), 'udp.bad_length'],
    ['UDP length past IP', LinkType.EN10MB, mutate(buildFrame({ ip: v4, udp }), (b) => b.writeUInt16BE(500, 14 + 20 + 4)), 'udp.length_exceeds_ip'],
  ];
  it.each(cases)('%s', (_name, linkType, frame, counter) => {
    const counters = new Counters();
    expect(decodePacket(linkType, frame, 0, counters)).toBeNull();
    expect(counters.snapshot()).toEqual({ [counter]: 1 });
  });
});

describe('decodePacket: hostile bytes', () => {
  const linkTypes = Object.values(LinkType);
  it('never throws on random frames, and a drop is always counted', () => {
    fc.assert(
      fc.property(fc.constantFrom(...linkTypes), fc.uint8Array({ maxLength: 200 }), (linkType, raw) => {
        const counters = new Counters();
        const pkt = decodePacket(linkType, Buffer.from(raw), 0, counters);
        if (pkt === null) expect(Object.keys(counters.snapshot()).length).toBe(1);
      }),
      { numRuns: 3000 },
    );
  });
  it('never throws on truncated or bit-flipped valid frames', () => {
    const specs: FrameSpec[] = [
      { ip: v4, tcp },
      { ip: v6, udp },
      { link: { type: 'ethernet', vlans: [{ id: 1 }] }, ip: { ...v6, extHeaders: [{ type: 0 }, { type: 44 }] }, tcp },
      { link: { type: 'sll2' }, ip: { ...v4, options: Buffer.alloc(4, 1) }, udp },
    ];
    fc.assert(
      fc.property(fc.constantFrom(...specs), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (spec, cut, at, value) => {
        const frame = buildFrame(spec);
        const counters = new Counters();
        const truncated = frame.subarray(0, cut % frame.length);
        const pkt = decodePacket(linkTypeOf(spec.link), truncated, 0, counters);
        // A truncated frame is never mistaken for a complete packet.
        expect(pkt).toBeNull();
        const flipped = Buffer.from(frame);
        flipped[at % frame.length] = value;
        decodePacket(linkTypeOf(spec.link), flipped, 0, counters);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('decodePacket into a reused object', () => {
  it('fills `out` with what a fresh decode returns, packet after packet', () => {
    const specs: FrameSpec[] = [
      { ip: v4, tcp },
      { ip: v6, udp },
      { link: { type: 'sll2' }, ip: { ...v4, options: Buffer.alloc(4, 1) }, udp },
      { link: { type: 'ethernet', vlans: [{ id: 1 }] }, ip: v6, tcp: { ...tcp, payload: Buffer.alloc(0) } },
    ];
    const out = emptyDecodedPacket();
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...specs), { minLength: 1, maxLength: 8 }), fc.double({ min: 0, max: 2e12, noNaN: true }), (seq, ts) => {
        for (const spec of seq) {
          const frame = buildFrame(spec);
          const fresh = decodePacket(linkTypeOf(spec.link), frame, ts, new Counters());
          const reused = decodePacket(linkTypeOf(spec.link), frame, ts, new Counters(), out);
          expect(reused).toBe(out);
          expect({ ...reused }).toEqual({ ...fresh });
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('decodeFrameBytes: a frame inside a larger buffer', () => {
  const linkTypes = Object.values(LinkType);
  const specs: FrameSpec[] = [
    { ip: v4, tcp },
    { ip: v6, udp },
    { link: { type: 'sll' }, ip: v4, tcp },
    { link: { type: 'sll2' }, ip: { ...v4, options: Buffer.alloc(4, 1) }, udp },
    { link: { type: 'null', byteOrder: 'le' }, ip: v6, tcp },
    { link: { type: 'loop' }, ip: v4, udp },
    { link: { type: 'raw' }, ip: v6, tcp },
    { link: { type: 'ethernet', vlans: [{ id: 1 }, { id: 2 }] }, ip: { ...v6, extHeaders: [{ type: 0 }, { type: 44 }] }, tcp },
  ];
  /** A buffer holding `before` junk bytes, then `frame`, then `after`. */
  const embed = (frame: Uint8Array, before: Uint8Array, after: Uint8Array): Buffer => Buffer.concat([before, frame, after]);

  it('decodes as the frame alone would, whatever bytes surround it, and counts the same drops', () => {
    // Random frames and valid ones cut short: the bytes past `end` (random, or the rest of the
    // valid frame) must never be read, so a cut frame is not taken for a whole one.
    const frames = fc.oneof(
      fc.tuple(fc.constantFrom(...linkTypes), fc.uint8Array({ maxLength: 200 })).map(([linkType, raw]) => ({ linkType, frame: Buffer.from(raw), rest: Buffer.alloc(0) })),
      fc.tuple(fc.constantFrom(...specs), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([spec, cut, at, value]) => {
        const whole = buildFrame(spec);
        whole[at % whole.length] = value;
        const n = cut % (whole.length + 1);
        return { linkType: linkTypeOf(spec.link), frame: whole.subarray(0, n), rest: whole.subarray(n) };
      }),
    );
    fc.assert(
      fc.property(frames, fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), ({ linkType, frame, rest }, before, after) => {
        const alone = new Counters();
        const expected = decodePacket(linkType, Buffer.from(frame), 99, alone);
        const bytes = embed(frame, before, Buffer.concat([rest, after]));
        const inside = new Counters();
        const got = decodeFrameBytes(linkType, bytes, before.length, before.length + frame.length, 99, inside);
        expect(inside.snapshot()).toEqual(alone.snapshot());
        if (expected === null) {
          expect(got).toBeNull();
          return;
        }
        expect(got).not.toBeNull();
        const { bytes: gotBytes, payloadStart: gotStart, payloadEnd: gotEnd, ...gotRest } = got!;
        const { bytes: _b, payloadStart: expectedStart, payloadEnd: expectedEnd, ...expectedRest } = expected;
        expect(gotRest).toEqual(expectedRest);
        expect(payloadOf(got!)).toEqual(payloadOf(expected));
        // The payload is a span of `bytes` (no copy), at the frame's offsets, within the frame.
        expect(gotBytes).toBe(bytes);
        expect([gotStart - before.length, gotEnd - before.length]).toEqual([expectedStart, expectedEnd]);
        expect(gotEnd).toBeLessThanOrEqual(before.length + frame.length);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('builder checksums', () => {
  it('IPv4 header and TCP/UDP checksums verify to zero', () => {
    const frame = buildFrame({ link: { type: 'raw' }, ip: v4, tcp });
    expect(onesSum(frame.subarray(0, 20))).toBe(0xffff);
    const udpFrame = buildFrame({ link: { type: 'raw' }, ip: v6, udp });
    const dgram = udpFrame.subarray(40);
    const pseudo = Buffer.concat([udpFrame.subarray(8, 40), Buffer.from([0, 0, 0, dgram.length, 0, 0, 0, 17])]);
    expect(internetChecksum(dgram, onesSum(pseudo))).toBe(0);
  });
});
