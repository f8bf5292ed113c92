// Addresses, endpoints and CIDRs (IPv4 and IPv6): accepted forms, canonical text, precise refusals, containment.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AddressForms } from './address.js';
import { addressContains, canonicalIp, formatAddress, formatIpBytes, isLoopback, parseAddress, parseIpBytes } from './address.js';
import { clientAddressSelected, serverMatches } from './server-match.js';

const ANY = { port: 'optional', prefix: true, portZero: false } as const;

describe('parseAddress', () => {
  it.each([
    ['10.0.0.1', { family: 4, ip: '10.0.0.1' }],
    ['10.0.0.1:8888', { family: 4, ip: '10.0.0.1', port: 8888 }],
    ['10.0.0.0/8', { family: 4, ip: '10.0.0.0', prefix: 8 }],
    ['0.0.0.0/0', { family: 4, ip: '0.0.0.0', prefix: 0 }],
    ['::1', { family: 6, ip: '::1' }],
    ['[2001:DB8::1]:7777', { family: 6, ip: '2001:db8::1', port: 7777 }],
    ['2001:db8:0:0:0:0:0:0/32', { family: 6, ip: '2001:db8::', prefix: 32 }],
    ['::ffff:10.0.0.1', { family: 6, ip: '::ffff:10.0.0.1' }],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', { family: 6, ip: '2001:db8::1:0:0:1' }],
  ])('%s parses', (text, expected) => {
    expect(parseAddress(text, ANY)).toEqual({ kind: 'ok', value: expected });
  });

  it.each<[string, AddressForms, RegExp]>([
    ['10.0.0.256', ANY, /not an IPv4 or IPv6 address/],
    ['010.0.0.1', ANY, /not an IPv4 or IPv6 address/],
    ['10.0.0', ANY, /not an IPv4 or IPv6 address/],
    ['10.0.0.1/33', ANY, /from 0 to 32 for IPv4/],
    ['10.0.0.1/24', ANY, /host bits are set; did you mean 10.0.0.0\/24\?/],
    ['2001:db8::/129', ANY, /from 0 to 128 for IPv6/],
    ['10.0.0.1:0', ANY, /port 0 is outside 1-65535/],
    ['10.0.0.1:70000', ANY, /port 70000 is outside/],
    ['10.0.0.1:http', ANY, /port "http" is not a number/],
    ['[::1', ANY, /without its "]"/],
    ['[10.0.0.1]:80', ANY, /only for IPv6/],
    ['fe80::1%eth0', ANY, /zone ids/],
    ['1::2::3', ANY, /not an IPv4 or IPv6/],
    ['1:2:3:4:5:6:7:8:9', ANY, /not an IPv4 or IPv6/],
    ['10.0.0.1:80', { port: 'forbidden', prefix: true, portZero: false }, /no port is allowed/],
    ['10.0.0.0/8', { port: 'optional', prefix: false, portZero: false }, /prefix .* not allowed/],
    ['10.0.0.1', { port: 'required', prefix: false, portZero: false }, /a port is required/],
    ['example.com', ANY, /not an IPv4 or IPv6 address/],
  ])('%s is refused', (text, forms, why) => {
    const r = parseAddress(text, forms);
    expect(r.kind).toBe('error');
    if (r.kind === 'error') expect(r.reason).toMatch(why);
  });

  it('allows port 0 only when asked (automatic listen port)', () => {
    expect(parseAddress('0.0.0.0:0', { port: 'optional', prefix: false, portZero: true }).kind).toBe('ok');
  });

  it('round-trips any IPv4/IPv6 address through canonical text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
        const bytes = parseIpBytes(ip);
        expect(bytes).toBeDefined();
        if (bytes === undefined) return;
        const canon = formatIpBytes(bytes);
        expect(parseIpBytes(canon)).toEqual(bytes);
        expect(canonicalIp(canon)).toBe(canon);
      }),
    );
  });

  it('never throws on random text', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseAddress(s, ANY)));
  });
});

describe('containment and matching', () => {
  const net = (t: string) => {
    const r = parseAddress(t, ANY);
    if (r.kind !== 'ok') throw new Error(t);
    return r.value;
  };

  it.each([
    ['10.0.2.0/24', '10.0.2.77', true], ['10.0.2.0/24', '10.0.3.1', false], ['10.0.2.5', '10.0.2.5', true],
    ['0.0.0.0/0', '192.0.2.1', true], ['2001:db8::/32', '2001:db8:1::9', true], ['2001:db8::/32', '10.0.0.1', false],
    ['10.0.0.0/9', '10.127.255.255', true], ['10.0.0.0/9', '10.128.0.0', false],
  ])('%s contains %s: %s', (n, ip, yes) => {
    expect(addressContains(net(n), ip)).toBe(yes);
  });

  it('loopback is 127/8 and ::1 only', () => {
    expect(isLoopback(net('127.0.0.5'))).toBe(true);
    expect(isLoopback(net('::1'))).toBe(true);
    expect(isLoopback(net('10.0.0.1'))).toBe(false);
  });

  it('formats addresses back', () => {
    expect(formatAddress(net('[::1]:9900'))).toBe('[::1]:9900');
    expect(formatAddress(net('10.0.0.0/8'))).toBe('10.0.0.0/8');
  });

  it('matches servers by every non-empty list', () => {
    const m = { addresses: [net('10.201.1.0/24')], ports: [8888], protocols: ['opennap' as const] };
    expect(serverMatches(m, { ip: '10.201.1.2', port: 8888, protocol: 'opennap' })).toBe(true);
    expect(serverMatches(m, { ip: '10.201.1.2', port: 7777, protocol: 'opennap' })).toBe(false);
    expect(serverMatches(m, { ip: '10.201.2.2', port: 8888, protocol: 'opennap' })).toBe(false);
    expect(serverMatches(m, { ip: '10.201.1.2', port: 8888, protocol: 'dht' })).toBe(false);
    expect(serverMatches({ addresses: [], ports: [], protocols: [] }, { ip: '::1', port: 1, protocol: 'grid' })).toBe(true);
  });

  it('selects clients by addresses minus except', () => {
    const c = { interfaces: [], addresses: [net('192.168.0.0/16')], except: [net('192.168.10.0/24')] };
    expect(clientAddressSelected(c, '192.168.1.1')).toBe(true);
    expect(clientAddressSelected(c, '192.168.10.1')).toBe(false);
    expect(clientAddressSelected(c, '10.0.0.1')).toBe(false);
    expect(clientAddressSelected({ interfaces: [], addresses: [], except: [] }, '10.0.0.1')).toBe(true);
  });
});
