import { describe, expect, it } from 'vitest';
import type { ConntrackEntry } from './conntrack-codec.js';
import { compileFilter, entryMatches, ipv4ToNetU32, netU16ToPort, netU32ToIpv4, portToNetU16, protocolName } from './conntrack-codec.js';

const LITTLE = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function entry(over: Partial<ConntrackEntry> = {}): ConntrackEntry {
  return {
    family: 4,
    protocol: 'tcp',
    src: '10.214.1.2',
    dst: '10.214.2.2',
    sport: 40000,
    dport: 8888,
    replySrc: '10.214.2.2',
    replyDst: '10.214.1.2',
    replySport: 8888,
    replyDport: 40000,
    tcpState: 3,
    mark: 0,
    status: 0,
    timeout: 100,
    id: 1,
    ...over,
  };
}

describe('byte order helpers', () => {
  it('htonl/htons as the host integer the C library stores', () => {
    expect(ipv4ToNetU32(Uint8Array.of(10, 0, 1, 2))).toBe(LITTLE ? 0x0201000a : 0x0a000102);
    expect(portToNetU16(8888)).toBe(LITTLE ? 0xb822 : 0x22b8);
  });
  it.each([0, 1, 80, 8888, 65535])('port %i round-trips', (p) => {
    expect(netU16ToPort(portToNetU16(p))).toBe(p);
  });
  it('address round-trips', () => {
    expect(Array.from(netU32ToIpv4(ipv4ToNetU32(Uint8Array.of(192, 168, 255, 1))))).toEqual([192, 168, 255, 1]);
  });
  it('names protocols', () => {
    expect([protocolName(6), protocolName(17), protocolName(99)]).toEqual(['tcp', 'udp', 'proto-99']);
  });
});

describe('filters', () => {
  it.each([
    [{}, entry(), true],
    [{ protocol: 'udp' }, entry(), false],
    [{ dst: { ip: '10.214.2.2', port: 8888 } }, entry(), true],
    [{ dst: { ip: '10.214.2.2', port: 8889 } }, entry(), false],
    [{ dst: { ip: '10.214.2.3' } }, entry(), false],
    [{ srcCidrs: ['10.214.1.0/24'] }, entry(), true],
    [{ srcCidrs: ['10.214.9.0/24'] }, entry(), false],
    [{ srcCidrs: ['10.214.1.0/24'], except: ['10.214.1.2'] }, entry(), false],
    [{ dst: { ip: '2001:db8::2' } }, entry(), false],
  ])('%j matches: %s', (filter, e, want) => {
    const c = compileFilter(filter);
    expect(c.kind === 'ok' && entryMatches(e, c.filter)).toBe(want);
  });
  it.each([
    [{ dst: { ip: 'x' } }, /dst.ip/],
    [{ protocol: 'gre' }, /protocol/],
    [{ srcCidrs: ['10.0.0.0/99'] }, /srcCidrs/],
    [{ dst: { ip: '10.0.0.1' }, srcCidrs: ['::/0'] }, /mixed/],
    [{ dst: { ip: '10.0.0.1', port: 70000 } }, /port/],
  ])('rejects %j', (filter, re) => {
    const c = compileFilter(filter);
    expect(c.kind === 'error' && re.test(c.detail)).toBe(true);
  });
});
