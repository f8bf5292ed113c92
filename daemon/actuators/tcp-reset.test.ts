import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Counters } from '../../analyzers/counters.js';
import { InvalidPacketSpecError } from '../../analyzers/errors.js';
import { onesSum, pseudoHeaderSum } from '../../analyzers/packet/checksum.js';
import { decodePacket } from '../../analyzers/packet/decode.js';
import { IPPROTO_TCP } from '../../analyzers/packet/network.js';
import { LinkType, TcpFlag } from '../../analyzers/packet/types.js';
import type { RstSpec, TcpSessionState } from './tcp-reset.js';
import { RST_TTL, TcpResetInjector, buildRst, planSessionReset } from './tcp-reset.js';

/** Decodes a raw IPv4 packet and checks both checksums the way a receiving stack does. */
function decodeChecked(bytes: Buffer) {
  const counters = new Counters();
  const pkt = decodePacket(LinkType.RAW, bytes, 0, counters);
  expect(counters.snapshot()).toEqual({});
  expect(pkt).not.toBeNull();
  const ihl = ((bytes[0] ?? 0) & 0x0f) * 4;
  expect(onesSum(bytes.subarray(0, ihl))).toBe(0xffff); // IPv4 header checksum verifies
  const seg = bytes.subarray(ihl);
  expect(onesSum(seg, pseudoHeaderSum(bytes.subarray(12, 16), bytes.subarray(16, 20), IPPROTO_TCP, seg.length))).toBe(0xffff);
  return { pkt: pkt!, ihl, ttl: bytes[8], totalLength: bytes.readUInt16BE(2) };
}

const A = { ip: '10.215.1.2', port: 40312 };
const B = { ip: '10.215.2.2', port: 8888 };

describe('buildRst', () => {
  it.each<{ name: string; spec: RstSpec; flags: number; ack: number }>([
    { name: 'RST+ACK', spec: { src: A, dst: B, seq: 1000, ack: 2000 }, flags: TcpFlag.RST | TcpFlag.ACK, ack: 2000 },
    { name: 'bare RST when the ack is unknown', spec: { src: A, dst: B, seq: 1000, ack: undefined }, flags: TcpFlag.RST, ack: 0 },
    { name: 'top of sequence space', spec: { src: B, dst: A, seq: 0xffffffff, ack: 0 }, flags: TcpFlag.RST | TcpFlag.ACK, ack: 0 },
    { name: 'numbers past 2^32 are taken modulo', spec: { src: A, dst: B, seq: 2 ** 32 + 5, ack: 2 ** 32 + 7 }, flags: TcpFlag.RST | TcpFlag.ACK, ack: 7 },
  ])('$name', ({ spec, flags, ack }) => {
    const bytes = buildRst(spec);
    const { pkt, ihl, ttl, totalLength } = decodeChecked(bytes);
    expect(ihl).toBe(20);
    expect(totalLength).toBe(40);
    expect(bytes.length).toBe(40);
    expect(ttl).toBe(RST_TTL);
    expect(pkt).toMatchObject({
      ipVersion: 4,
      transport: 'tcp',
      src: spec.src.ip,
      dst: spec.dst.ip,
      srcPort: spec.src.port,
      dstPort: spec.dst.port,
      seq: spec.seq >>> 0,
      ack,
      flags,
      window: 0,
    });
    expect(pkt.payloadEnd - pkt.payloadStart).toBe(0);
  });

  it.each(['2001:db8::1', '10.0.0.256', 'host'])('rejects a non-IPv4 address %s', (ip) => {
    expect(() => buildRst({ src: { ip, port: 1 }, dst: B, seq: 0, ack: 0 })).toThrow(InvalidPacketSpecError);
  });

  it('round-trips any IPv4 endpoints and numbers with valid checksums (property)', () => {
    const ep = fc.record({ ip: fc.ipV4(), port: fc.integer({ min: 0, max: 65535 }) });
    fc.assert(
      fc.property(ep, ep, fc.nat({ max: 0xffffffff }), fc.option(fc.nat({ max: 0xffffffff }), { nil: undefined }), (src, dst, seq, ack) => {
        const { pkt } = decodeChecked(buildRst({ src, dst, seq, ack }));
        expect(pkt.src).toBe(src.ip.split('.').map(Number).join('.'));
        expect([pkt.srcPort, pkt.dstPort, pkt.seq, pkt.ack]).toEqual([src.port, dst.port, seq, ack ?? 0]);
        expect(pkt.flags & TcpFlag.RST).toBe(TcpFlag.RST);
      }),
      { numRuns: 300 },
    );
  });
});

describe('planSessionReset', () => {
  const session = (over: Partial<TcpSessionState> = {}): TcpSessionState => ({
    client: A,
    server: B,
    nextSeqToServer: 111,
    nextSeqToClient: 222,
    ...over,
  });

  it('resets the server as the client and the client as the server, each with the seq it expects', () => {
    const plan = planSessionReset(session());
    expect(plan.skipped).toEqual([]);
    const [toServer, toClient] = plan.packets;
    expect(toServer?.toward).toBe('server');
    expect(toServer?.dstIp).toBe(B.ip);
    expect(decodeChecked(toServer!.bytes).pkt).toMatchObject({ src: A.ip, srcPort: A.port, dst: B.ip, dstPort: B.port, seq: 111, ack: 222, flags: TcpFlag.RST | TcpFlag.ACK });
    expect(toClient?.toward).toBe('client');
    expect(toClient?.dstIp).toBe(A.ip);
    expect(decodeChecked(toClient!.bytes).pkt).toMatchObject({ src: B.ip, srcPort: B.port, dst: A.ip, dstPort: A.port, seq: 222, ack: 111, flags: TcpFlag.RST | TcpFlag.ACK });
  });

  it.each([
    { name: 'server side unknown', over: { nextSeqToServer: undefined }, toward: ['client'], flags: [TcpFlag.RST], skipped: ['tcp_reset.seq_unknown'] },
    { name: 'client side unknown', over: { nextSeqToClient: undefined }, toward: ['server'], flags: [TcpFlag.RST], skipped: ['tcp_reset.seq_unknown'] },
    { name: 'both unknown', over: { nextSeqToServer: undefined, nextSeqToClient: undefined }, toward: [], flags: [], skipped: ['tcp_reset.seq_unknown', 'tcp_reset.seq_unknown'] },
    {
      name: 'IPv6',
      over: { client: { ip: '2001:db8::1', port: 1 }, server: { ip: '2001:db8::2', port: 2 } },
      toward: [],
      flags: [],
      skipped: ['tcp_reset.ipv6_unsupported', 'tcp_reset.ipv6_unsupported'],
    },
    { name: 'bad address text', over: { client: { ip: 'nonsense', port: 1 } }, toward: [], flags: [], skipped: ['tcp_reset.bad_address', 'tcp_reset.bad_address'] },
  ])('$name', ({ over, toward, flags, skipped }) => {
    const plan = planSessionReset(session(over));
    expect(plan.packets.map((p) => p.toward)).toEqual(toward);
    expect(plan.packets.map((p) => decodeChecked(p.bytes).pkt.flags)).toEqual(flags);
    expect(plan.skipped).toEqual(skipped);
  });
});

// Opening a raw socket needs CAP_NET_RAW; nothing is sent here (the socket is closed first).
// Skipped only outside CI, for a developer without root (or the tool named): these tests open a raw
// socket, which needs CAP_NET_RAW. CI (CI=true, root, tools installed by .ci/setup) never skips them.
describe.skipIf(process.getuid?.() !== 0 && !process.env.CI)('TcpResetInjector without sending', () => {
  it('counts sends after close and skipped halves, and never throws', () => {
    const inj = TcpResetInjector.open();
    inj.close();
    expect(inj.closed).toBe(true);
    const r = inj.resetSession({ client: A, server: B, nextSeqToServer: 1, nextSeqToClient: undefined });
    expect(r).toEqual({ packetsSent: 0, failures: 1, skipped: 1 });
    expect(inj.counters.snapshot()).toEqual({ 'tcp_reset.closed': 1, 'tcp_reset.seq_unknown': 1 });
    inj.close(); // idempotent
  });
});
