import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalIp, cidrContains, formatCidr, formatIp, parseCidr, parseIp } from './ip-address.js';

describe('parseIp / canonicalIp', () => {
  it.each([
    ['10.0.1.2', '10.0.1.2'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['fe80::', 'fe80::'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
  ])('%s -> %s', (input, want) => {
    expect(canonicalIp(input)).toBe(want);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'g::1', 'a b'])(
    'rejects %j',
    (input) => {
      expect(parseIp(input)).toBeUndefined();
    },
  );

  it('round-trips any 4 or 16 bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })), (bytes) => {
        const parsed = parseIp(formatIp(bytes));
        expect(parsed && Array.from(parsed.bytes)).toEqual(Array.from(bytes));
      }),
    );
  });

  it('never throws on random text', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseIp(s)));
  });
});

describe('CIDRs', () => {
  it.each([
    ['10.214.1.77/24', '10.214.1.0/24'],
    ['10.0.0.1', '10.0.0.1/32'],
    ['2001:db8::1/64', '2001:db8::/64'],
    ['1.2.3.4/0', '0.0.0.0/0'],
  ])('%s normalises to %s', (input, want) => {
    const c = parseCidr(input);
    expect(c && formatCidr(c)).toBe(want);
  });

  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', '/24'])('rejects %s', (input) => {
    expect(parseCidr(input)).toBeUndefined();
  });

  it.each([
    ['10.214.1.0/24', '10.214.1.2', true],
    ['10.214.1.0/24', '10.214.2.2', false],
    ['10.214.1.0/24', '::1', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['10.0.0.1/32', '10.0.0.1', true],
  ])('%s contains %s: %s', (cidr, ip, want) => {
    const c = parseCidr(cidr);
    const a = parseIp(ip);
    expect(c && a && cidrContains(c, a)).toBe(want);
  });
});
