// Unit tests of reading the daemon's status document (daemon-status.ts): tolerant parsing, merging, the proxy counter.
import { describe, expect, it } from 'vitest';
import { mergeTimelines, parseDaemonStatus, proxySearches, sameServer, toEpochMs } from './daemon-status.js';

const STATUS = {
  startedAt: '2024-01-01T00:00:00.000Z',
  activeAt: 1704067222000,
  servers: [{ address: '10.201.1.10:8888', protocol: 'opennap', qrAvg: 31 }],
  services: [
    { id: 's1', type: 'cache-proxy', origin: '10.201.1.10:8888', listen: '10.201.2.1:9888', startedAt: 1704067223000, stats: { searches: 120, hits: 100, misses: 20, forwards: 20, sessions: 6 } },
    { id: 's2', type: 'cache-proxy', origin: '10.201.1.99:8888', stats: { searches: 5 } },
  ],
  redirects: [{ id: 'r1', server: '10.201.1.10:8888', to: '10.201.2.1:9888', appliedAt: 1704067223100 }],
  timeline: [
    { ts: 1704067223000, server: '10.201.1.10:8888', kind: 'service_started', detail: 'cache-proxy' },
    { ts: '2024-01-01T00:00:22.500Z', server: '10.201.1.10:8888', kind: 'crossed', detail: { qr: 31 } },
    { ts: 1704067224000, server: '10.201.1.10:8888', kind: 'decision', detail: 'act' },
    { ts: 1, kind: 7 },
    { kind: 'crossed' },
  ],
  counters: {},
};

describe('parseDaemonStatus', () => {
  const parsed = parseDaemonStatus(JSON.stringify(STATUS));
  if (parsed.kind !== 'ok') throw new Error('expected ok');
  const s = parsed.status;

  it('reads times given as ISO text or epoch ms', () => {
    expect(s.startedAt).toBe(Date.parse('2024-01-01T00:00:00.000Z'));
    expect(s.activeAt).toBe(1704067222000);
  });

  it('keeps valid timeline entries sorted, names the bad ones', () => {
    expect(s.timeline.map((e) => [e.ts, e.kind])).toEqual([
      [1704067222500, 'crossed'],
      [1704067223000, 'service_started'],
      [1704067224000, 'decision'],
    ]);
    expect(s.timeline[0]?.detail).toBe('{"qr":31}');
    expect(s.problems).toEqual(['timeline[3] has no valid ts/kind', 'timeline[4] has no valid ts/kind']);
  });

  it('reads the services and their counters', () => {
    expect(s.services[0]).toEqual({ id: 's1', type: 'cache-proxy', origin: '10.201.1.10:8888', startedAt: 1704067223000, searches: 120, sessions: 6, forwards: 20 });
    expect(s.services[1]?.sessions).toBeNull();
    expect(s.redirects).toBe(1);
  });

  it('sums the proxy searches of the origin only', () => {
    expect(proxySearches(s, '10.201.1.10')).toBe(120);
    expect(proxySearches(s, '10.201.1.1')).toBeNull();
  });

  it.each([
    ['', 'status is not JSON'],
    ['{"timeline": [', 'status is not JSON'],
    ['[1,2]', 'status is not a JSON object'],
    ['null', 'status is not a JSON object'],
  ])('rejects %j', (text, message) => {
    expect(parseDaemonStatus(text)).toEqual({ kind: 'error', message });
  });

  it('names fields of the wrong type', () => {
    const r = parseDaemonStatus('{"timeline": 3, "services": "x"}');
    expect(r.kind === 'ok' && r.status.problems).toEqual(['timeline is not an array', 'services is not an array']);
  });
});

describe('helpers', () => {
  it.each([
    [5, 5],
    [-1, null],
    ['1970-01-01T00:00:01Z', 1000],
    ['soon', null],
    [null, null],
  ] as [unknown, number | null][])('toEpochMs(%j) = %s', (v, want) => {
    expect(toEpochMs(v)).toBe(want);
  });

  it('matches servers by address, with or without port', () => {
    expect([sameServer('10.201.1.10', '10.201.1.10'), sameServer('10.201.1.10:8888', '10.201.1.10'), sameServer('10.201.1.100:8888', '10.201.1.10'), sameServer('', '10.201.1.10')]).toEqual([true, true, false, true]);
  });

  it('merges timelines without duplicates, sorted', () => {
    const a = { ts: 2, server: 's', kind: 'crossed' as const, detail: '' };
    const b = { ts: 1, server: 's', kind: 'service_started' as const, detail: '' };
    expect(mergeTimelines([a], [b, a])).toEqual([b, a]);
  });
});
