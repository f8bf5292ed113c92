// The interop check run against our own directory server on 127.0.0.1 (port 0), plus the pieces that decide
// a verdict: the 201 comparison and the command-line parsing with its loopback-only rule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenNapServer } from '../../opennap/server.js';
import { InteropUsageError, NonLoopbackServerError } from './errors.js';
import { compareResults, runInteropChecks, ZERO_MD5 } from './interop-checks.js';
import { detailFiles, interopWords } from './interop-files.js';
import { formatResult, parseInteropArgs } from './opennap-c-interop.js';

describe('interop checks against our server', () => {
  const server = new OpenNapServer({ host: '127.0.0.1', port: 0 });
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  it('passes every check', async () => {
    const results = await runInteropChecks({ host: '127.0.0.1', port: server.address().port, timeoutMs: 5_000, tag: 'unit1' });
    expect(results.filter((r) => !r.pass).map(formatResult)).toEqual([]);
    expect(results.map((r) => r.name)).toContain('data port 0 on both sides hides');
    expect(results.length).toBeGreaterThanOrEqual(12);
  });
});

describe('compareResults', () => {
  const files = detailFiles(interopWords('t'));
  const asResults = files.map((f) => ({ ...f, nick: 'a', ip: '127.0.0.1', linkType: 7 }));

  it('accepts the shared md5 and the C server zeros', () => {
    expect(compareResults(asResults, files, 'a', 7)).toEqual([]);
    expect(compareResults(asResults.map((r) => ({ ...r, md5: ZERO_MD5 })), files, 'a', 7)).toEqual([]);
  });

  it('names every wrong field', () => {
    const bad = [{ ...asResults[0]!, bitrate: 129, ip: '1.0.0.127', nick: 'x' }];
    expect(compareResults(bad, files, 'a', 7)).toEqual([`"${files[0]!.filename}": bitrate 129!=128, nick x!=a, ip 1.0.0.127`]);
    expect(compareResults([{ ...asResults[0]!, filename: 'other.mp3' }], files, 'a', 7)).toEqual(['unexpected "other.mp3"']);
  });
});

describe('parseInteropArgs', () => {
  it('reads a loopback server', () => {
    expect(parseInteropArgs(['--server', '127.0.0.1:8888', '--tag', 'abc', '--timeout', '900'])).toEqual({ host: '127.0.0.1', port: 8888, tag: 'abc', timeoutMs: 900 });
    expect(parseInteropArgs(['--server', 'localhost:1']).host).toBe('127.0.0.1');
  });

  it('refuses anything but loopback, and bad usage, by code', () => {
    expect(() => parseInteropArgs(['--server', '10.0.0.1:8888'])).toThrow(NonLoopbackServerError);
    expect(() => parseInteropArgs(['--server', 'example.org:8888'])).toThrow(NonLoopbackServerError);
    expect(() => parseInteropArgs([])).toThrow(InteropUsageError);
    expect(() => parseInteropArgs(['--server', '127.0.0.1:70000'])).toThrow(InteropUsageError);
    expect(() => parseInteropArgs(['--server', '127.0.0.1:1', '--bogus', 'x'])).toThrow(InteropUsageError);
  });
});
