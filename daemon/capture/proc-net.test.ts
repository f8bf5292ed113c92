// /proc parsers used by live capture, and the cap link-type name mapping: table-driven.
import { describe, expect, it } from 'vitest';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_RAW, linkTypeFromCapName } from './link-types.js';
import { CAP_NET_RAW, hasEffectiveCapability, parseProcNetDev, parseProcNetPacket, socketInodeOfLink } from './proc-net.js';

describe('parseProcNetPacket', () => {
  it('collects the inode column, skipping header and junk', () => {
    const text = [
      'sk               RefCnt Type Proto  Iface R Rmem   User   Inode',
      'ffff8880069c7000 3      3    0003   2     1 0      0      30811',
      'ffff8880069c5800 3      3    88cc   1     1 0      0      17',
      'garbage line',
      '',
    ].join('\n');
    expect(parseProcNetPacket(text)).toEqual(new Set([30811, 17]));
    expect(parseProcNetPacket('')).toEqual(new Set());
  });
});

describe('socketInodeOfLink', () => {
  it.each([
    ['socket:[12345]', 12345],
    ['pipe:[12345]', undefined],
    ['/dev/null', undefined],
    ['socket:[]', undefined],
  ])('%s → %s', (link, inode) => expect(socketInodeOfLink(link)).toBe(inode));
});

describe('parseProcNetDev', () => {
  it('reads rx packets, drop and fifo per interface', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0',
      'veth-a: 5000000    4000    1   17    3     0          0         0      900       9    0    0    0     0       0          0',
      'short: 1 2 3',
    ].join('\n');
    const m = parseProcNetDev(text);
    expect(m.get('lo')).toEqual({ rxPackets: 10, rxDropped: 0, rxFifo: 0 });
    expect(m.get('veth-a')).toEqual({ rxPackets: 4000, rxDropped: 17, rxFifo: 3 });
    expect(m.has('short')).toBe(false);
    expect(m.has('face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed')).toBe(false);
  });
});

describe('hasEffectiveCapability', () => {
  it.each([
    ['CapEff:\t000001ffffffffff', true],
    ['CapEff:\t0000000000000000', false],
    ['CapEff:\t0000000000002000', true], // bit 13 only
    ['CapEff:\t0000000000001000', false],
    ['Name: node', undefined],
  ])('%s → %s', (line, has) => expect(hasEffectiveCapability(`Name: x\n${line}\nCapBnd: 0\n`, CAP_NET_RAW)).toBe(has));
});

describe('linkTypeFromCapName', () => {
  it.each([
    ['ETHERNET', LINKTYPE_ETHERNET],
    ['LINKTYPE_LINUX_SLL', LINKTYPE_LINUX_SLL],
    ['RAW', LINKTYPE_RAW],
    ['NULL', 0],
    ['IEEE802_11_RADIO', 127],
    ['Unknown linktype 276', 276],
    ['Unknown linktype 12', LINKTYPE_RAW],
    ['something else', undefined],
  ])('%s → %s', (name, lt) => expect(linkTypeFromCapName(name)).toBe(lt));
});
