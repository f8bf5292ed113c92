import { describe, expect, it } from 'vitest';
import type { NormalDesiredState } from './desired-state.js';
import { normalizeDesiredState } from './desired-state.js';
import { buildFamilyRules, quoteArg } from './rule-text.js';
import type { DesiredState } from './types.js';

function norm(d: DesiredState): NormalDesiredState {
  const r = normalizeDesiredState(d);
  if (r.kind !== 'ok') throw new Error(r.problems.join('; '));
  return r.value;
}

const REDIRECT = {
  id: 'cache-proxy:10.0.1.2:8888',
  server: { ip: '10.0.1.2', port: 8888 },
  protocol: 'tcp' as const,
  clients: { inInterfaces: ['veth-b'], sources: ['10.0.2.0/24'], except: ['10.0.2.9'] },
  to: { ip: '10.0.2.1', port: 9888 },
};

describe('buildFamilyRules', () => {
  const rules = buildFamilyRules(norm({ redirects: [REDIRECT], snats: [] }), 4);
  const chain = rules.redirectKeys.get(REDIRECT.id) ?? '';
  const hash = chain.slice('AR-D-'.length);

  it('dispatches only new SYNs to the server into the DNAT sub-chain', () => {
    expect(rules.top.get('ACTIVE_ROUTER')?.map((r) => r.spec)).toEqual([
      `-d 10.0.1.2/32 -p tcp -m tcp --dport 8888 --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -m comment --comment active-router:cache-proxy:10.0.1.2:8888 -j ${chain}`,
    ]);
  });

  it('puts except before the selected clients, with the protocol for DNAT', () => {
    expect(rules.subChains.get(chain)?.rules.map((r) => r.spec)).toEqual([
      '-s 10.0.2.9/32 -m comment --comment active-router:cache-proxy:10.0.1.2:8888 -j RETURN',
      '-i veth-b -s 10.0.2.0/24 -p tcp -m comment --comment active-router:cache-proxy:10.0.1.2:8888 -j DNAT --to-destination 10.0.2.1:9888',
    ]);
  });

  it('resets orphan non-SYN segments in both directions, and keeps conntrack on', () => {
    expect(rules.top.get('ACTIVE_ROUTER_FWD')?.map((r) => r.target)).toEqual([`AR-F-${hash}`, `AR-B-${hash}`, 'RETURN']);
    expect(rules.top.get('ACTIVE_ROUTER_FWD')?.[0]?.spec).toContain('! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate INVALID,NEW');
    expect(rules.subChains.get(`AR-B-${hash}`)?.rules.map((r) => r.spec)).toEqual([
      '-d 10.0.2.9/32 -m comment --comment active-router:cache-proxy:10.0.1.2:8888 -j RETURN',
      '-o veth-b -d 10.0.2.0/24 -p tcp -m comment --comment active-router:cache-proxy:10.0.1.2:8888 -j REJECT --reject-with tcp-reset',
    ]);
  });

  it('UDP redirects get no SYN match and no reset chains', () => {
    const udp = buildFamilyRules(norm({ redirects: [{ ...REDIRECT, protocol: 'udp', clients: {} }], snats: [] }), 4);
    expect(udp.top.get('ACTIVE_ROUTER')?.[0]?.spec).toMatch(/^-d 10.0.1.2\/32 -p udp -m udp --dport 8888 -m conntrack --ctstate NEW /);
    expect([...udp.subChains.keys()].every((k) => k.startsWith('AR-D-'))).toBe(true);
    expect([...udp.subChains.values()][0]?.rules.map((r) => r.spec)).toEqual([
      '-p udp -m comment --comment active-router:cache-proxy:10.0.1.2:8888 -j DNAT --to-destination 10.0.2.1:9888',
    ]);
  });

  it('expands interfaces x sources', () => {
    const r = buildFamilyRules(norm({ redirects: [{ ...REDIRECT, clients: { inInterfaces: ['a', 'b'], sources: ['10.1.0.0/16', '10.2.0.0/16'] } }], snats: [] }), 4);
    expect([...r.subChains.values()][0]?.rules).toHaveLength(4);
  });

  it('IPv6: /128 hosts and bracketed DNAT target, only in family 6', () => {
    const d = norm({ redirects: [{ ...REDIRECT, server: { ip: '2001:db8::2', port: 8888 }, to: { ip: '2001:db8::1', port: 9888 }, clients: {} }], snats: [] });
    expect(buildFamilyRules(d, 4).redirectKeys.size).toBe(0);
    const r6 = buildFamilyRules(d, 6);
    expect(r6.top.get('ACTIVE_ROUTER')?.[0]?.spec).toContain('-d 2001:db8::2/128');
    expect([...r6.subChains.values()][0]?.rules[0]?.spec).toContain('--to-destination [2001:db8::1]:9888');
  });

  it('SNAT rule carries id and spec hash; a changed spec changes the key', () => {
    const s = { id: 'up-1', localPort: 40001, origin: { ip: '10.0.1.2', port: 8888 }, toSource: '10.0.2.5' };
    const a = buildFamilyRules(norm({ redirects: [], snats: [s] }), 4);
    const b = buildFamilyRules(norm({ redirects: [], snats: [{ ...s, toSource: '10.0.2.6' }] }), 4);
    expect(a.top.get('ACTIVE_ROUTER_POST')?.[0]?.spec).toMatch(
      /^-d 10.0.1.2\/32 -p tcp -m tcp --sport 40001 --dport 8888 -m comment --comment active-router:snat:up-1@[0-9a-f]{16} -j SNAT --to-source 10.0.2.5$/,
    );
    expect(a.snatKeys.get('up-1')).not.toBe(b.snatKeys.get('up-1'));
  });
});

describe('quoteArg', () => {
  it.each([
    ['active-router:x', 'active-router:x'],
    ['a b', '"a b"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
  ])('%j -> %j', (input, want) => {
    expect(quoteArg(input)).toBe(want);
  });
});
