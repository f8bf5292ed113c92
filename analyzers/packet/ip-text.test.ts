import fc from 'fast-check';
import { isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatIPv6, ipv4Text, ipv4TextOf, ipv6Text } from './ip-text.js';
import { parseIPv4, parseIPv6 } from './ip-parse.js';

describe('IPv6 text (RFC 5952)', () => {
  it.each([
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not shortened
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['2001:DB8:0:0:1:0:0:0', '2001:db8:0:0:1::'], // longest run wins, lower case
    ['0:0:0:0:0:ffff:c000:0280', '::ffff:192.0.2.128'], // IPv4-mapped
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
  ])('%s → %s', (input, expected) => {
    const bytes = parseIPv6(input);
    expect(bytes).toBeDefined();
    expect(formatIPv6(bytes!)).toBe(expected);
    expect(ipv6Text(bytes!, 0)).toBe(expected);
  });

  it('round-trips random addresses and matches the cache', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (raw, zeroRun) => {
        const bytes = Buffer.from(raw);
        if (zeroRun) bytes.fill(0, 4, 10);
        const text = formatIPv6(bytes);
        expect(isIPv6(text)).toBe(true);
        expect(parseIPv6(text)).toEqual(bytes);
        expect(ipv6Text(bytes, 0)).toBe(text);
        expect(ipv6Text(bytes, 0)).toBe(text);
      }),
    );
  });

  it.each(['1::2::3', ':::', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '1:2:3:4:5:6:7'])('rejects %s', (bad) => {
    expect(parseIPv6(bad)).toBeUndefined();
  });
});

describe('IPv4 text', () => {
  it('formats through the cache, also when two addresses share a slot', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (raw) => {
        const bytes = Buffer.from(raw);
        const text = [...raw].join('.');
        expect(ipv4Text(bytes, 0)).toBe(text);
        expect(parseIPv4(text)).toEqual(bytes);
      }),
    );
    // Many distinct addresses overwrite slots; every answer must still be right.
    for (let i = 0; i < 20000; i++) {
      const b = Buffer.alloc(4);
      b.writeUInt32BE((i * 2654435761) >>> 0);
      expect(ipv4Text(b, 0)).toBe([...b].join('.'));
    }
  });

  it('formats an address given as its 32 bits, unsigned as the decoder reads it or signed, as from its bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (raw) => {
        const bytes = Buffer.from(raw);
        expect(ipv4TextOf(bytes.readUInt32BE(0))).toBe([...raw].join('.'));
        expect(ipv4TextOf(bytes.readInt32BE(0))).toBe(ipv4Text(bytes, 0));
      }),
    );
  });

  it.each(['1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '1..2.3'])('rejects %s', (bad) => {
    expect(parseIPv4(bad)).toBeUndefined();
  });
});
