import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { splitFields } from './fields.js';
import { ipToNapster, napsterToIp } from './ip-address.js';
import {
  buildDownloadAck, buildLogin, buildSearchResult, buildShareFile, parseDownloadAck, parseFileRef, parseLogin,
  isValidShareFile, parsePrivateMessage, parseSearchResult, parseServerStats, parseShareFile,
} from './messages.js';

describe('splitFields', () => {
  it.each([
    ['foo badpass 6699 "nap v0.8" 3', ['foo', 'badpass', '6699', 'nap v0.8', '3']],
    ['"generic band - generic song.mp3" b9 443332 128 44100 60', ['generic band - generic song.mp3', 'b9', '443332', '128', '44100', '60']],
    ['"say "hi"" 3', ['say "hi"', '3']],
    ['nick "a "b c.mp3"', ['nick', 'a "b c.mp3']],
    ['  a   b ', ['a', 'b']],
    ['"unterminated rest', ['unterminated rest']],
    ['', []],
  ])('%s', (text, fields) => {
    expect(splitFields(text)).toEqual(fields);
  });

  it('never throws on random text', () => {
    fc.assert(fc.property(fc.string(), (s) => void splitFields(s)));
  });
});

describe('ip encoding (little-endian integer, as the C server prints con->ip)', () => {
  it.each([
    ['1.2.3.4', 67305985],
    ['127.0.0.1', 16777343],
    ['205.188.234.204', 3437935821],
  ])('%s ↔ %d', (ip, n) => {
    expect(ipToNapster(ip)).toBe(n);
    expect(napsterToIp(n)).toBe(ip);
  });
  it('rejects malformed input', () => {
    expect(ipToNapster('1.2.3')).toBeNaN();
    expect(ipToNapster('1.2.3.256')).toBeNaN();
    expect(napsterToIp(2 ** 32)).toBeUndefined();
    expect(napsterToIp(-1)).toBeUndefined();
  });
  it('round-trips every address', () => {
    fc.assert(fc.property(fc.ipV4(), (ip) => {
      expect(napsterToIp(ipToNapster(ip))).toBe(ip);
    }));
  });
});

describe('typed messages', () => {
  it('parses the napster.txt login example and rebuilds it', () => {
    const r = parseLogin('foo badpass 6699 "nap v0.8" 3');
    expect(r).toEqual({ kind: 'ok', value: { nick: 'foo', password: 'badpass', port: 6699, clientInfo: 'nap v0.8', linkType: 3 } });
    if (r.kind === 'ok') expect(buildLogin(r.value)).toBe('foo badpass 6699 "nap v0.8" 3');
  });
  it('parses a new-user login with e-mail', () => {
    const r = parseLogin('foo foo 6699 "nap v0.8" 3 email@here.com');
    expect(r.kind === 'ok' && r.value.email).toBe('email@here.com');
  });
  it.each([
    ['foo pass', 'opennap.login_too_few_fields'],
    ['foo pass x "c" 3', 'opennap.login_bad_port'],
    ['foo pass 70000 "c" 3', 'opennap.login_bad_port'],
    ['foo pass 0 "c" fast', 'opennap.login_bad_link_type'],
  ])('login error: %s', (text, code) => {
    expect(parseLogin(text)).toMatchObject({ kind: 'error', code });
  });
  it('round-trips a share', () => {
    const s = { filename: 'generic band - generic song.mp3', md5: 'b92870e0d41bc8e698cf2f0a1ddfeac7', size: 443332, bitrate: 128, freq: 44100, duration: 60 };
    expect(parseShareFile(buildShareFile(s))).toEqual({ kind: 'ok', value: s });
    expect(parseShareFile('"x" md5 big 1 2 3')).toMatchObject({ kind: 'error', code: 'opennap.share_bad_number' });
  });
  it.each([
    ['"generic band - generic song.mp3" b9 443332 128 44100 60', true],
    ['"x" md5 big 1 2 3', false],
    ['"" md5 1 2 3 4', false],
    ['"unterminated md5 1 2 3 4', false],
    ['a b 1 2 3', false],
    ['a b 1 2 3 4 extra', true],
    ['a b 1 2 3 1234567890123456', false],
    ['"say "hi"" b 1 2 3 4', true],
  ])('isValidShareFile %s → %s', (text, valid) => {
    expect(isValidShareFile(Buffer.from(text, 'latin1'), 0, text.length)).toBe(valid);
  });
  it('isValidShareFile accepts exactly what parseShareFile accepts, at any offset', () => {
    // Texts made of the characters the tokenizer treats specially, so every branch is reached.
    const unit = fc.constantFrom(' ', '"', '0', '7', 'a', 'é', '.');
    // And field lists shaped like shares, so that valid ones come up often as well.
    const name = fc.constantFrom('a', '"x y"', '""', '"q"z"', '"open', '');
    const num = fc.constantFrom('0', '443332', '44100', '1234567890123456', '12a', '"7"', '');
    const shareLike = fc
      .tuple(name, fc.constantFrom('b9', '"m d"', ''), fc.array(num, { minLength: 2, maxLength: 6 }))
      .map(([n, md5, nums]) => [n, md5, ...nums].join(' '));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit, maxLength: 40 }), shareLike), fc.string({ unit, maxLength: 4 }), fc.string({ unit, maxLength: 4 }), (text, before, after) => {
        const buf = Buffer.from(before + text + after, 'latin1');
        const expected = parseShareFile(text).kind === 'ok';
        expect(isValidShareFile(buf, before.length, before.length + text.length)).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });
  it('parses the napster.txt 201 example', () => {
    const r = parseSearchResult('"random band - random song.mp3" 7d733c1e7419674744768db71bff8bcd 2558199 128 44100 159 lefty 3437166285 4');
    expect(r).toMatchObject({ kind: 'ok', value: { filename: 'random band - random song.mp3', size: 2558199, nick: 'lefty', ip: '205.254.222.204', linkType: 4 } });
    if (r.kind === 'ok') expect(parseSearchResult(buildSearchResult(r.value))).toEqual(r);
  });
  it('round-trips a download ack', () => {
    const a = { nick: 'lefty', ip: '10.0.2.8', port: 6699, filename: 'x y.mp3', md5: 'aa', linkType: 3 };
    expect(parseDownloadAck(buildDownloadAck(a))).toEqual({ kind: 'ok', value: a });
  });
  it('parses 203, 205 and 214', () => {
    expect(parseFileRef('mred "C:\\Program Files\\Napster\\generic cowboy song.mp3"')).toEqual({ kind: 'ok', value: { nick: 'mred', filename: 'C:\\Program Files\\Napster\\generic cowboy song.mp3' } });
    expect(parsePrivateMessage('bob hello there')).toEqual({ kind: 'ok', value: { nick: 'bob', text: 'hello there' } });
    expect(parseServerStats('553 64692 254')).toEqual({ kind: 'ok', value: { users: 553, files: 64692, gigabytes: 254 } });
    expect(parseServerStats('x')).toMatchObject({ kind: 'error' });
  });
  it('never throws on random data', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      for (const p of [parseLogin, parseShareFile, parseSearchResult, parseFileRef, parseDownloadAck, parsePrivateMessage, parseServerStats]) p(s);
    }));
  });
});
