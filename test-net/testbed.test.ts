// Unit tests of the pure parts of the test bed: the bring-up command plan, /proc stat parsing, state records.
import { describe, expect, it } from 'vitest';
import { bringUpPlan, parseProcStartTime, parseTestbedRecord } from './testbed.js';
import { resolveTopology } from './topology.js';
import type { ResolvedTopology } from './topology.js';
import { pairTopology } from './topologies/pair.js';
import { paperTopology } from './topologies/paper.js';

function resolvedPair(): ResolvedTopology {
  const r = resolveTopology(pairTopology(), 'arunit');
  if (r.kind !== 'ok') throw new Error('pair topology must resolve');
  return r.topology;
}

describe('bringUpPlan', () => {
  it('creates namespaces, then veths directly inside them (never in the root namespace)', () => {
    const plan = bringUpPlan(resolvedPair(), { ipv6: false });
    expect(plan.rootBatch).toEqual([
      'netns add arunit-client',
      'netns add arunit-router',
      'netns add arunit-server',
      'netns add arunit-sw-c',
      'netns add arunit-sw-s',
      'link add eth0 netns arunit-client type veth peer name p1 netns arunit-sw-c',
      'link add eth-c netns arunit-router type veth peer name p0 netns arunit-sw-c',
      'link add eth-s netns arunit-router type veth peer name p0 netns arunit-sw-s',
      'link add eth0 netns arunit-server type veth peer name p1 netns arunit-sw-s',
    ]);
  });

  it('configures addresses, routes and bridges per namespace', () => {
    const plan = bringUpPlan(resolvedPair(), { ipv6: false });
    const batches = Object.fromEntries(plan.nsBatches.map((b) => [b.ns, b.lines]));
    expect(batches['arunit-client']).toEqual([
      'link set lo up',
      'addr add 10.202.1.10/24 dev eth0',
      'link set eth0 up',
      'route add default via 10.202.1.1 dev eth0',
    ]);
    expect(batches['arunit-router']).toEqual([
      'link set lo up',
      'addr add 10.202.1.1/24 dev eth-c',
      'link set eth-c up',
      'addr add 10.202.2.1/24 dev eth-s',
      'link set eth-s up',
    ]);
    expect(batches['arunit-sw-s']).toEqual([
      'link add br0 type bridge',
      'link set br0 up',
      'link set p0 alias router',
      'link set p0 master br0',
      'link set p0 up',
      'link set p1 alias server',
      'link set p1 master br0',
      'link set p1 up',
    ]);
  });

  it('router: forwarding on, rp_filter off everywhere, offloads off on every veth end', () => {
    const plan = bringUpPlan(resolvedPair(), { ipv6: false });
    const scripts = Object.fromEntries(plan.setupScripts.map((s) => [s.ns, s.script.split('\n')]));
    const router = scripts['arunit-router'] ?? [];
    expect(router[0]).toBe('set -e');
    expect(router).toContain('echo 1 > /proc/sys/net/ipv4/ip_forward');
    for (const scope of ['all', 'default', 'eth-c', 'eth-s']) {
      expect(router).toContain(`echo 0 > /proc/sys/net/ipv4/conf/${scope}/rp_filter`);
      expect(router).toContain(`echo 1 > /proc/sys/net/ipv6/conf/${scope}/disable_ipv6`);
    }
    expect(router).toContain('ethtool -K eth-c tso off gso off gro off tx off');
    expect(scripts['arunit-client']).not.toContain('echo 1 > /proc/sys/net/ipv4/ip_forward');
    expect(scripts['arunit-sw-c']).toContain('ethtool -K p0 tso off gso off gro off tx off');
    expect(scripts['arunit-sw-c']).toContain('ethtool -K p1 tso off gso off gro off tx off');
    // Nothing touches nf_conntrack_tcp_loose: it stays at the kernel default.
    expect(plan.setupScripts.every((s) => !s.script.includes('conntrack'))).toBe(true);
  });

  it('keeps IPv6 when asked', () => {
    const plan = bringUpPlan(resolvedPair(), { ipv6: true });
    expect(plan.setupScripts.some((s) => s.script.includes('disable_ipv6'))).toBe(false);
  });

  it('paper topology: one veth per link, one batch and one script per namespace', () => {
    const r = resolveTopology(paperTopology(), 'arunit');
    if (r.kind !== 'ok') throw new Error('paper topology must resolve');
    const plan = bringUpPlan(r.topology, { ipv6: false });
    expect(plan.rootBatch.filter((l) => l.startsWith('netns add'))).toHaveLength(17);
    expect(plan.rootBatch.filter((l) => l.startsWith('link add'))).toHaveLength(16);
    expect(plan.nsBatches).toHaveLength(17);
    expect(plan.setupScripts).toHaveLength(17);
  });
});

describe('parseProcStartTime', () => {
  it.each([
    ['9714 (cat) R 9659 9659 4046 0 -1 4194304 126 0 0 0 0 0 0 0 20 0 1 0 64534 3133440 409', '64534'],
    ['77 (we ird) name)) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 123 0 0', '123'],
    ['77 (short) S 1 2', null],
    ['garbage', null],
    ['', null],
  ])('%s', (text, want) => {
    expect(parseProcStartTime(text)).toBe(want);
  });
});

describe('parseTestbedRecord', () => {
  const good = {
    version: 1,
    prefix: 'arabc',
    topology: 'pair',
    owner: { pid: 12, startTime: '345' },
    createdAt: '2024-01-01T00:00:00.000Z',
    namespaces: ['arabc-client', 'arabc-sw-c'],
    hosts: [],
    subnets: [],
  };
  it('accepts a well-formed record', () => {
    expect(parseTestbedRecord(good)).toEqual(good);
  });
  it.each<[string, unknown]>([
    ['null', null],
    ['array', []],
    ['wrong version', { ...good, version: 2 }],
    ['bad prefix', { ...good, prefix: 'A B' }],
    ['foreign namespace', { ...good, namespaces: ['arabc-client', 'other-ns'] }],
    ['non-integer pid', { ...good, owner: { pid: '12', startTime: null } }],
    ['missing hosts', { ...good, hosts: undefined }],
  ])('rejects %s', (_label, value) => {
    expect(parseTestbedRecord(value)).toBeNull();
  });
});
