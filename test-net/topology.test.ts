// Unit tests of the pure topology model: IPv4 parsing, validation issues, the address plan and names.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_IFNAME_LENGTH,
  formatIpv4,
  makePrefix,
  parseCidr,
  parseIpv4,
  prefixProblem,
  resolveTopology,
} from './topology.js';
import type { TopologySpec } from './topology.js';
import { pairTopology } from './topologies/pair.js';
import { paperTopology } from './topologies/paper.js';

const PREFIX = 'artest1';

function issueCodes(spec: TopologySpec, prefix = PREFIX): string[] {
  const r = resolveTopology(spec, prefix);
  return r.kind === 'error' ? r.issues.map((i) => i.code) : [];
}

function resolved(spec: TopologySpec, prefix = PREFIX) {
  const r = resolveTopology(spec, prefix);
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r.issues));
  return r.topology;
}

const lan = (links: TopologySpec['links'], extra: Partial<TopologySpec> = {}): TopologySpec => ({
  name: 'lan',
  subnets: [{ name: 'x', cidr: '10.210.0.0/24' }],
  hosts: [
    { name: 'r', kind: 'router' },
    { name: 'h1', kind: 'host' },
    { name: 'h2', kind: 'host' },
  ],
  links,
  ...extra,
});

describe('parseIpv4 / formatIpv4', () => {
  it.each([
    ['10.201.1.10', 0x0ac9010a],
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
    ['10.1.2', null],
    ['10.1.2.3.4', null],
    ['10.01.2.3', null],
    ['10.1.2.256', null],
    ['10.1.2.-1', null],
    [' 10.1.2.3', null],
    ['', null],
  ])('%s -> %s', (text, value) => {
    expect(parseIpv4(text)).toBe(value);
  });

  it('round-trips every 32-bit value', () => {
    fc.assert(fc.property(fc.nat(0xffffffff), (n) => parseIpv4(formatIpv4(n)) === n));
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const v = parseIpv4(s);
        return v === null || (Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
      }),
    );
    fc.assert(fc.property(fc.string(), (s) => parseCidr(s) === null || typeof parseCidr(s)?.size === 'number'));
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.201.1.0/24', { network: 0x0ac90100, prefixLength: 24, size: 256 }],
    ['10.200.0.0/16', { network: 0x0ac80000, prefixLength: 16, size: 65536 }],
    ['10.201.1.1/24', null], // host bits set
    ['10.201.1.0/33', null],
    ['10.201.1.0', null],
    ['10.201.1.0/', null],
    ['10.201.1.0/024', null],
  ])('%s', (text, want) => {
    expect(parseCidr(text)).toEqual(want);
  });
});

describe('prefixes', () => {
  it('makePrefix gives ar + base-36 pid + 4 random chars, always valid', () => {
    expect(makePrefix(36 * 36 - 1, () => 0)).toBe('arzz0000');
    fc.assert(
      fc.property(fc.nat(4_194_304), fc.double({ min: 0, max: 0.9999999, noNaN: true }), (pid, r) => {
        const p = makePrefix(pid, () => r);
        return prefixProblem(p) === null && p.startsWith(`ar${pid.toString(36)}`);
      }),
    );
  });

  it.each([['ab'], ['Ar123'], ['1ar23'], ['ar-12'], ['ar_12'], ['a'.repeat(17)]])('rejects %s', (p) => {
    expect(prefixProblem(p)).not.toBeNull();
  });
});

describe('resolveTopology: validation', () => {
  it.each<[string, TopologySpec, string]>([
    ['duplicate host', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x' }], { hosts: [{ name: 'r', kind: 'router' }, { name: 'h1', kind: 'host' }, { name: 'h1', kind: 'host' }] }), 'host.duplicate'],
    ['bad host name', lan([{ host: 'r', subnet: 'x' }], { hosts: [{ name: 'r', kind: 'router' }, { name: 'Bad_Name', kind: 'host' }] }), 'host.bad_name'],
    ['reserved host name', lan([{ host: 'r', subnet: 'x' }, { host: 'sw-x', subnet: 'x' }], { hosts: [{ name: 'r', kind: 'router' }, { name: 'sw-x', kind: 'host' }] }), 'host.reserved_name'],
    ['host without link', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x' }]), 'host.link_count'],
    ['unknown host in link', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'x' }, { host: 'nobody', subnet: 'x' }]), 'link.unknown_host'],
    ['unknown subnet in link', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'y' }]), 'link.unknown_subnet'],
    ['address outside subnet', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x', address: '10.210.1.5' }, { host: 'h2', subnet: 'x' }]), 'link.address_outside_subnet'],
    ['broadcast address', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x', address: '10.210.0.255' }, { host: 'h2', subnet: 'x' }]), 'link.address_outside_subnet'],
    ['network address', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x', address: '10.210.0.0' }, { host: 'h2', subnet: 'x' }]), 'link.address_outside_subnet'],
    ['malformed address', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x', address: '10.210.0' }, { host: 'h2', subnet: 'x' }]), 'link.bad_address'],
    ['duplicate address', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x', address: '10.210.0.7' }, { host: 'h2', subnet: 'x', address: '10.210.0.7' }]), 'link.duplicate_address'],
    ['ifname too long', lan([{ host: 'r', subnet: 'x', ifname: 'a'.repeat(MAX_IFNAME_LENGTH + 1) }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'x' }]), 'link.bad_ifname'],
    ['ifname with dot', lan([{ host: 'r', subnet: 'x', ifname: 'eth0.5' }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'x' }]), 'link.bad_ifname'],
    ['attached twice', lan([{ host: 'r', subnet: 'x' }, { host: 'r', subnet: 'x', ifname: 'eth-y' }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'x' }]), 'link.duplicate_attachment'],
    ['subnet outside 10.2xx', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'x' }], { subnets: [{ name: 'x', cidr: '192.168.1.0/24' }] }), 'subnet.outside_range'],
    ['subnet 10.199', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'x' }], { subnets: [{ name: 'x', cidr: '10.199.0.0/24' }] }), 'subnet.outside_range'],
    ['subnet too wide', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'x' }], { subnets: [{ name: 'x', cidr: '10.200.0.0/15' }] }), 'subnet.bad_prefix_length'],
    ['host bits in cidr', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'x' }], { subnets: [{ name: 'x', cidr: '10.210.0.1/24' }] }), 'subnet.bad_cidr'],
    ['overlapping subnets', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'y' }], { subnets: [{ name: 'x', cidr: '10.210.0.0/24' }, { name: 'y', cidr: '10.210.0.128/25' }] }), 'subnet.overlap'],
    ['unused subnet', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'x' }], { subnets: [{ name: 'x', cidr: '10.210.0.0/24' }, { name: 'y', cidr: '10.211.0.0/24' }] }), 'subnet.unused'],
    ['two routers on a subnet', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'x' }], { hosts: [{ name: 'r', kind: 'router' }, { name: 'h1', kind: 'router' }, { name: 'h2', kind: 'host' }] }), 'subnet.multiple_routers'],
    ['subnet name too long for eth-<subnet>', lan([{ host: 'r', subnet: 'abcdefghi' }, { host: 'h1', subnet: 'abcdefghi' }, { host: 'h2', subnet: 'abcdefghi' }], { subnets: [{ name: 'abcdefghi', cidr: '10.210.0.0/24' }] }), 'subnet.bad_name'],
    ['address exhausted', lan([{ host: 'r', subnet: 'x' }, { host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'x' }], { subnets: [{ name: 'x', cidr: '10.210.0.0/29' }] }), 'subnet.address_exhausted'],
  ])('%s', (_label, spec, code) => {
    expect(issueCodes(spec)).toContain(code);
  });

  it('reports a bad prefix and bad topology name', () => {
    expect(issueCodes({ ...pairTopology(), name: 'Bad Name' }, 'X')).toEqual(['topology.bad_prefix', 'topology.bad_name']);
  });

  it('collects every issue, not only the first', () => {
    const codes = issueCodes(lan([{ host: 'nobody', subnet: 'x' }, { host: 'h1', subnet: 'zz' }]));
    expect(codes).toEqual(expect.arrayContaining(['link.unknown_host', 'link.unknown_subnet', 'host.link_count', 'subnet.unused']));
  });
});

describe('resolveTopology: address plan and names', () => {
  it('gives routers the first usable address and hosts addresses from .10, skipping explicit ones', () => {
    const topo = resolved(lan([{ host: 'h1', subnet: 'x' }, { host: 'h2', subnet: 'x', address: '10.210.0.10' }, { host: 'r', subnet: 'x' }]));
    const addr = Object.fromEntries(topo.hosts.map((h) => [h.name, h.interfaces[0]?.address]));
    expect(addr).toEqual({ r: '10.210.0.1', h1: '10.210.0.11', h2: '10.210.0.10' });
    expect(topo.hosts.find((h) => h.name === 'h1')?.gateway).toBe('10.210.0.1');
    expect(topo.hosts.find((h) => h.name === 'r')?.gateway).toBeNull();
  });

  it('leaves hosts of a router-less subnet without gateway', () => {
    const spec: TopologySpec = {
      name: 'flat',
      subnets: [{ name: 'x', cidr: '10.220.0.0/24' }],
      hosts: [
        { name: 'a', kind: 'host' },
        { name: 'b', kind: 'host' },
      ],
      links: [
        { host: 'a', subnet: 'x' },
        { host: 'b', subnet: 'x' },
      ],
    };
    const topo = resolved(spec);
    expect(topo.hosts.map((h) => [h.interfaces[0]?.address, h.gateway])).toEqual([
      ['10.220.0.10', null],
      ['10.220.0.11', null],
    ]);
    expect(topo.subnets[0]?.router).toBeNull();
  });

  it('paper topology: Fig. 4 addresses, stable router interface names, namespaces with the prefix', () => {
    const topo = resolved(paperTopology(), 'arpaper1');
    const router = topo.hosts.find((h) => h.name === 'router');
    expect(router?.interfaces.map((i) => [i.ifname, i.address, i.subnet])).toEqual([
      ['eth-a', '10.201.1.1', 'a'],
      ['eth-b', '10.201.2.1', 'b'],
    ]);
    const byName = new Map(topo.hosts.map((h) => [h.name, h]));
    expect(byName.get('server')?.interfaces[0]?.address).toBe('10.201.1.10');
    for (let n = 1; n <= 13; n++) {
      const h = byName.get(`peer${n}`);
      expect(h?.interfaces[0]?.subnet).toBe(n <= 7 ? 'a' : 'b');
      expect(h?.interfaces[0]?.address).toBe(`10.201.${n <= 7 ? 1 : 2}.${10 + n}`);
      expect(h?.gateway).toBe(n <= 7 ? '10.201.1.1' : '10.201.2.1');
      expect(h?.interfaces[0]?.ifname).toBe('eth0');
    }
    expect(topo.hosts).toHaveLength(15);
    expect(topo.namespaces).toHaveLength(17);
    expect(topo.namespaces).toContain('arpaper1-peer13');
    expect(topo.namespaces).toContain('arpaper1-sw-b');
    expect(topo.namespaces.every((n) => n.startsWith('arpaper1-'))).toBe(true);
  });

  it('numbers switch ports per subnet in link order, all within IFNAMSIZ', () => {
    const topo = resolved(paperTopology());
    const portsOnB = topo.hosts.flatMap((h) => h.interfaces).filter((i) => i.subnet === 'b');
    expect(portsOnB.map((i) => i.switchPort)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    expect(portsOnB[0]?.host).toBe('router');
    const all = topo.hosts.flatMap((h) => h.interfaces);
    expect(all.every((i) => i.ifname.length <= MAX_IFNAME_LENGTH && i.switchPort.length <= MAX_IFNAME_LENGTH)).toBe(true);
  });
});
