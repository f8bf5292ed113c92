import { describe, expect, it } from 'vitest';
import { MAX_SELECTOR_ENTRIES, normalizeDesiredState } from './desired-state.js';
import type { DesiredState, Redirect } from './types.js';

const GOOD: Redirect = {
  id: 'cache-proxy:10.0.1.2:8888',
  server: { ip: '10.0.1.2', port: 8888 },
  protocol: 'tcp',
  clients: { sources: ['10.0.2.7/24', '10.0.2.0/24'] },
  to: { ip: '10.0.2.1', port: 9888 },
};

function problems(d: unknown): readonly string[] {
  const r = normalizeDesiredState(d as DesiredState);
  return r.kind === 'error' ? r.problems : [];
}

describe('normalizeDesiredState', () => {
  it('canonicalises addresses and drops duplicate CIDRs', () => {
    const r = normalizeDesiredState({
      redirects: [{ ...GOOD, server: { ip: '2001:DB8::0:2', port: 1 }, to: { ip: '2001:db8::1', port: 2 }, clients: { sources: ['2001:db8:0::/48'] } }],
      snats: [],
    });
    expect(r.kind === 'ok' && r.value.redirects[0]).toMatchObject({ family: 6, server: { ip: '2001:db8::2' }, sources: ['2001:db8::/48'] });
    const r4 = normalizeDesiredState({ redirects: [GOOD], snats: [] });
    expect(r4.kind === 'ok' && r4.value.redirects[0]?.sources).toEqual(['10.0.2.0/24']);
  });

  it.each([
    ['bad id', { ...GOOD, id: 'has space' }, /id must be/],
    ['quote in id', { ...GOOD, id: 'a"b' }, /id must be/],
    ['bad server ip', { ...GOOD, server: { ip: '10.0.1', port: 1 } }, /server.ip/],
    ['port 0', { ...GOOD, to: { ip: '10.0.2.1', port: 0 } }, /to.port/],
    ['protocol', { ...GOOD, protocol: 'icmp' }, /protocol/],
    ['mixed family', { ...GOOD, to: { ip: '::1', port: 1 } }, /address family/],
    ['v6 source in v4 redirect', { ...GOOD, clients: { sources: ['::/0'] } }, /IPv6 in an IPv4/],
    ['bad interface', { ...GOOD, clients: { inInterfaces: ['way-too-long-interface'] } }, /inInterfaces\[0\]/],
    ['bad except', { ...GOOD, clients: { except: ['nope'] } }, /except\[0\]/],
    ['too many sources', { ...GOOD, clients: { sources: new Array(MAX_SELECTOR_ENTRIES + 1).fill('10.0.0.1') } }, /at most/],
  ])('rejects %s', (_name, r, re) => {
    const p = problems({ redirects: [r], snats: [] });
    expect(p.some((x) => re.test(x))).toBe(true);
  });

  it('rejects duplicate ids and a bad SNAT', () => {
    expect(problems({ redirects: [GOOD, GOOD], snats: [] })).toEqual(['redirects[1]: duplicate id "cache-proxy:10.0.1.2:8888"']);
    expect(problems({ redirects: [], snats: [{ id: 'x@y', localPort: 70000, origin: { ip: '1.2.3.4', port: 1 }, toSource: '::1' }] })).toHaveLength(3);
  });

  it('rejects non-lists without throwing', () => {
    expect(problems({})).toEqual(['redirects: must be a list', 'snats: must be a list']);
    expect(problems({ redirects: [null], snats: [] }).length).toBeGreaterThan(0);
  });
});
