// Loopback test of the peer workload against the real directory server: it writes one well-formed JSON line per
// search with results the catalogue allows, and peers come back by themselves after the server drops them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filesOfGroup, paperCatalogue } from './catalogue.js';
import { WorkloadOptionError } from './errors.js';
import { runPeerWorkload, sharesOf } from './peer-workload.js';
import { readSearchLog } from './search-log.js';
import { OpenNapServer } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'h6-workload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const catalogue = paperCatalogue(1);

describe('runPeerWorkload', () => {
  it('logs in, shares, searches at the rate and writes one JSON line per search', async () => {
    const server = new OpenNapServer({ host: '127.0.0.1', port: 0 });
    await server.start();
    try {
      const out = join(dir, 'a.jsonl');
      const opts = { server: { host: '127.0.0.1', port: server.address().port }, rate: 4, catalogue: 'paper' as const, durationS: 1.5, seed: 5 };
      const [a, b] = await Promise.all([
        runPeerWorkload({ ...opts, count: 4, group: 'A', out }),
        runPeerWorkload({ ...opts, count: 3, group: 'B', out: join(dir, 'b.jsonl'), dataPortBase: 7700 }),
      ]);
      expect(a.peers).toBe(4);
      expect(b.peers).toBe(3);
      // 4 peers × 4/s × 1.5 s = 24 searches, give or take the first period's phase.
      expect(a.searches).toBeGreaterThanOrEqual(16);
      expect(a.searches).toBeLessThanOrEqual(28);
      expect(a.answered).toBe(a.searches);
      expect(a.connects).toBe(4);
      const { records, bad } = await readSearchLog(out);
      expect(bad).toEqual([]);
      expect(records).toHaveLength(a.searches);
      const words = new Set(catalogue.keywords.map((k) => k.word));
      for (const r of records) {
        expect(r.peer).toMatch(/^peerA[0-3]$/);
        expect(r.keywords).toHaveLength(1);
        expect(words.has(r.keywords[0]!)).toBe(true);
        expect(r.endedBy).toBe('end');
        expect(r.firstResultAt).not.toBeNull();
        expect(r.firstResultAt!).toBeGreaterThanOrEqual(r.sentAt);
        // Never more than the whole catalogue holds for that word.
        const max = catalogue.files.filter((f) => f.keywords.includes(r.keywords[0]!)).length;
        expect(r.results).toBeLessThanOrEqual(max);
      }
      expect(records.some((r) => r.results > 0)).toBe(true);
      expect(server.stats().users).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('reconnects, logs in and shares again when the server drops every connection', async () => {
    const first = new OpenNapServer({ host: '127.0.0.1', port: 0 });
    await first.start();
    const port = first.address().port;
    const out = join(dir, 'reconnect.jsonl');
    const run = runPeerWorkload({ server: { host: '127.0.0.1', port }, count: 3, rate: 5, catalogue: 'paper', group: 'A', durationS: 2.5, seed: 9, out });
    await new Promise((r) => setTimeout(r, 700));
    await first.stop();
    const second = new OpenNapServer({ host: '127.0.0.1', port });
    await second.start();
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect(second.stats().users).toBe(3);
      expect(second.stats().files).toBe(filesOfGroup(catalogue, 'A').length);
      const summary = await run;
      expect(summary.reconnects).toBe(3);
      expect(summary.connects).toBe(6);
      const { records, bad } = await readSearchLog(out);
      expect(bad).toEqual([]);
      const restartAt = records.find((r) => r.endedBy === 'closed')?.sentAt ?? 0;
      expect(records.filter((r) => r.sentAt > restartAt + 600 && r.endedBy === 'end').length).toBeGreaterThan(0);
    } finally {
      await second.stop();
    }
  });

  it('shares only its part of the group when the group runs in several processes', async () => {
    const server = new OpenNapServer({ host: '127.0.0.1', port: 0 });
    await server.start();
    try {
      const opts = { server: { host: '127.0.0.1', port: server.address().port }, count: 1, rate: 2, catalogue: 'paper' as const, group: 'B' as const, durationS: 1, seed: 3, peerTotal: 2 };
      const runs = Promise.all([
        runPeerWorkload({ ...opts, peerIndex: 0, nickPrefix: 'one', out: join(dir, 'p0.jsonl') }),
        runPeerWorkload({ ...opts, peerIndex: 1, nickPrefix: 'two', seed: 4, out: join(dir, 'p1.jsonl') }),
      ]);
      await new Promise((r) => setTimeout(r, 600));
      expect(server.stats().files).toBe(filesOfGroup(catalogue, 'B').length);
      expect(server.stats().users).toBe(2);
      await runs;
    } finally {
      await server.stop();
    }
  });

  it('deals a group among all its peers once, whichever process runs which part', () => {
    const group = filesOfGroup(catalogue, 'B').map((f) => f.name).sort();
    // Six peers, one per process, each with its own seed for keywords: parts must not depend on it.
    const parts = [0, 1, 2, 3, 4, 5].map((i) => sharesOf(catalogue, { group: 'B', count: 1, seed: 100 + i, peerIndex: i, peerTotal: 6 })[0]!.map((f) => f.name));
    expect(parts.flat().sort()).toEqual(group);
    expect(new Set(parts.flat()).size).toBe(group.length);
    expect(parts.every((p) => p.length === 10)).toBe(true);
  });

  it('refuses options out of range with a named error', async () => {
    const base = { server: { host: '127.0.0.1', port: 1 }, count: 1, rate: 1, catalogue: 'paper' as const, group: 'A' as const, durationS: 1, seed: 1, out: join(dir, 'x.jsonl') };
    await expect(runPeerWorkload({ ...base, count: 0 })).rejects.toBeInstanceOf(WorkloadOptionError);
    await expect(runPeerWorkload({ ...base, rate: 0 })).rejects.toBeInstanceOf(WorkloadOptionError);
    await expect(runPeerWorkload({ ...base, group: 'C' as 'A' })).rejects.toBeInstanceOf(WorkloadOptionError);
    await expect(runPeerWorkload({ ...base, peerTotal: 2, peerIndex: 2 })).rejects.toBeInstanceOf(WorkloadOptionError);
  });
});
