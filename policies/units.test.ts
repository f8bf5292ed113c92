// Durations and sizes: table tests of the accepted forms and the refused ones, and a round-trip property.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DURATION_MS } from './limits.js';
import { formatDuration, formatSize, parseDuration, parseSize } from './units.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500], ['10s', 10_000], ['1.5s', 1500], ['5m', 300_000], ['1h', 3_600_000], [' 2 s ', 2000],
    ['0s', 0], [250, 250], [0, 0], [0.5, 0.5],
  ])('%j is %d ms', (input, ms) => {
    expect(parseDuration(input)).toEqual({ kind: 'ok', value: ms });
  });

  it.each([
    ['10 secs', /got "10 secs"/], ['10', /got "10"/], ['-1s', /got "-1s"/], ['1d', /got "1d"/], ['', /got ""/],
    ['s', /got "s"/], [-5, /0 or more/], [Number.NaN, /0 or more/], [true, /got true/], [null, /got nothing/],
    ['600h', /at most/], [MAX_DURATION_MS + 1, /at most/],
  ])('%j is refused', (input, why) => {
    const r = parseDuration(input);
    expect(r.kind).toBe('error');
    if (r.kind === 'error') expect(r.reason).toMatch(why);
  });

  it('formats what it parses back to the same milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS }), (ms) => {
        const text = formatDuration(ms).replace(' min', 'm').replace(' ', '');
        const r = parseDuration(text);
        expect(r.kind).toBe('ok');
        if (r.kind === 'ok') expect(Math.abs(r.value - ms)).toBeLessThanOrEqual(ms * 0.001 + 0.5);
      }),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.anything(), (v) => void parseDuration(v)));
    fc.assert(fc.property(fc.string(), (v) => void parseDuration(v)));
  });
});

describe('parseSize', () => {
  it.each([
    ['64MB', 64 * 1024 * 1024], ['64mb', 64 * 1024 * 1024], ['512KB', 512 * 1024], ['1GiB', 1024 ** 3], ['100B', 100],
    ['100', 100], ['1.5KB', 1536], [4096, 4096], ['2M', 2 * 1024 * 1024],
  ])('%j is %d bytes', (input, bytes) => {
    expect(parseSize(input)).toEqual({ kind: 'ok', value: bytes });
  });

  it.each([['64 megs'], ['0.5B'], ['-1MB'], [1.5], ['17GB'], [[1]], ['MB']])('%j is refused', (input) => {
    expect(parseSize(input).kind).toBe('error');
  });

  it('formats sizes in binary units', () => {
    expect(formatSize(64 * 1024 * 1024)).toBe('64 MiB');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(formatSize(100)).toBe('100 B');
  });

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.anything(), (v) => void parseSize(v)));
  });
});

describe('formatDuration', () => {
  it.each([[500, '500 ms'], [1000, '1 s'], [1500, '1.5 s'], [90_000, '90 s'], [300_000, '5 min'], [3_600_000, '1 h']])(
    '%d ms reads %s',
    (ms, text) => expect(formatDuration(ms)).toBe(text),
  );
});
