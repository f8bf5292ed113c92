/**
 * The cache proxy end to end on loopback (127.0.0.1 only), with the real
 * directory server (opennap/server.ts) as the origin O and real clients.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { OpenNapClient } from '../../opennap/client.js';
import type { OpenNapServer } from '../../opennap/server.js';
import type { UpstreamUnreachableError } from '../errors.js';
import type { CacheProxy } from './cache-proxy.js';
import { LOOPBACK, loggedIn, resultPayload, song, startOrigin, startProxy, waitFor } from './test-helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function world(over: Parameters<typeof startProxy>[1] = {}): Promise<{ origin: OpenNapServer; proxy: CacheProxy; o: number; p: number }> {
  const origin = await startOrigin();
  cleanups.push(() => origin.stop());
  const proxy = await startProxy(origin.address().port, over);
  cleanups.push(() => proxy.stop());
  return { origin, proxy, o: origin.address().port, p: proxy.address().port };
}

async function client(port: number, nick: string, opts: { dataPort?: number; linkType?: number } = {}): Promise<OpenNapClient> {
  const c = await loggedIn(port, nick, opts);
  cleanups.push(() => c.close());
  return c;
}

function names(results: { nick: string; filename: string }[]): string[] {
  return results.map((r) => `${r.nick}:${r.filename}`).sort();
}

describe('CacheProxy in front of the OpenNap server', () => {
  it('relays login and shares to the origin, and answers from local directory + warm cache, merged and capped', async () => {
    const { origin, proxy, o, p } = await world();
    // alice is on the origin directly (network A); only the warm cache knows her files.
    const alice = await client(o, 'alice');
    const aliceFiles = [song('blue moon.mp3'), song('blue sky.mp3', 320), song('blue live.mp3')];
    alice.share(aliceFiles);
    // bob and dave come through the proxy (network B).
    const bob = await client(p, 'bob', { linkType: 7 });
    bob.share([song('blue river.mp3'), song('red river.mp3')]);
    const dave = await client(p, 'dave');
    dave.share([song('blue dave.mp3')]);
    // The origin sees the logins and has the files.
    await waitFor(() => origin.stats().users === 3 && origin.stats().files === 6, 5000, 'origin to see logins and shares');

    const warmed = proxy.warm([
      {
        kind: 'query_done', protocol: 'opennap', server: { ip: LOOPBACK, port: o }, ts: Date.now(),
        client: { ip: '10.0.0.9', port: 1234 }, seq: 0, queryTs: Date.now(), results: 4,
        keywords: ['Blue'],
        resultPayloads: [...aliceFiles.map((f) => resultPayload('alice', f)), resultPayload('dave', song('blue dave.mp3'))],
      },
    ]);
    expect(warmed).toBe(1);

    const all = await dave.search('FILENAME CONTAINS "blue" MAX_RESULTS 100');
    // bob's from the local directory, alice's from the cache; dave's own file never.
    expect(names(all.results)).toEqual(['alice:blue live.mp3', 'alice:blue moon.mp3', 'alice:blue sky.mp3', 'bob:blue river.mp3']);
    const bobResult = all.results.find((r) => r.nick === 'bob');
    expect(bobResult).toMatchObject({ ip: LOOPBACK, linkType: 7 });

    const capped = await dave.search('FILENAME CONTAINS "blue" MAX_RESULTS 2');
    expect(capped.results).toHaveLength(2);
    expect(capped.results[0]?.nick).toBe('bob'); // local results come first (step 1)

    const filtered = await dave.search('FILENAME CONTAINS "blue" BITRATE "AT LEAST" "256" FILENAME EXCLUDES "moon"');
    expect(names(filtered.results)).toEqual(['alice:blue sky.mp3']);

    const s = proxy.stats();
    expect(s).toMatchObject({ sessions: 2, searches: 3, hits: 3, misses: 0, forwards: 0, searchesAnswered: 3 });
    expect(s.localResults).toBe(2);
    expect(s.cacheResults).toBe(3 + 1 + 1);
    expect(s.latencyP99Ms).toBeGreaterThan(0);
    expect(origin.stats().searches).toBe(0); // the origin answered nothing
  });

  it('forwards a miss without making the client wait, then the same key hits from the cache', async () => {
    const { origin, proxy, o, p } = await world();
    const alice = await client(o, 'alice');
    alice.share([song('green tea.mp3'), song('green day.mp3')]);
    const carol = await client(p, 'carol');
    await waitFor(() => origin.stats().files === 2);

    const first = await carol.search('FILENAME CONTAINS "green" MAX_RESULTS 5');
    expect(first.results).toEqual([]); // answered at once from (1)+(2), both empty
    expect(proxy.stats()).toMatchObject({ misses: 1, forwards: 1 });
    await waitFor(() => proxy.stats().cacheEntries === 1, 5000, 'the forwarded answer to be deposited');
    expect(origin.stats().searches).toBe(1);

    // A different spelling of the same key (order, case, filters) hits without a new forward.
    const second = await carol.search('FILENAME CONTAINS "Green" MAX_RESULTS 100 BITRATE "AT LEAST" "128"');
    expect(names(second.results)).toEqual(['alice:green day.mp3', 'alice:green tea.mp3']);
    expect(proxy.stats()).toMatchObject({ hits: 1, forwards: 1 });
    expect(origin.stats().searches).toBe(1);
    // The forwarded answer never reached carol as stray results.
    expect(carol.unmatchedResults).toBe(0);
  });

  it('does not repeat a forward for a key already in flight', async () => {
    const { proxy, p } = await world();
    const c = await client(p, 'carol');
    await Promise.all([c.search('FILENAME CONTAINS "x"'), c.search('FILENAME CONTAINS "x" MAX_RESULTS 3'), c.search('FILENAME CONTAINS "x"')]);
    const s = proxy.stats();
    expect(s.forwards).toBe(1);
    expect(s.events['cache_proxy.forward_coalesced']).toBe(2);
    await waitFor(() => proxy.stats().cacheEntries === 1); // an empty answer is remembered too (no re-forward within T)
  });

  it('answers an unreadable search with 404 + 202 and keeps the session', async () => {
    const { proxy, p } = await world();
    const c = await client(p, 'carol');
    const bad = await c.search('FILENAME FROBNICATES "x"');
    expect(bad.errors[0]).toMatch(/invalid search request/);
    expect(bad.endedBy).toBe('end');
    const good = await c.search('FILENAME CONTAINS "x"');
    expect(good.endedBy).toBe('end');
    expect(proxy.stats().events['opennap.search_bad_filename_op']).toBe(1);
  });

  it('relays downloads (203→204), private messages (205) and unknown types', async () => {
    const { origin, o, p } = await world();
    const alice = await client(o, 'alice');
    alice.share([song('song a.mp3')]);
    const dave = await client(p, 'dave', { dataPort: 7777 });
    dave.share([song('song d.mp3')]);
    await waitFor(() => origin.stats().files === 2);

    const ack = await dave.downloadRequest('alice', 'song a.mp3');
    expect(ack).toMatchObject({ nick: 'alice', ip: LOOPBACK, port: 6699, filename: 'song a.mp3' });
    // The other way: alice asks the origin for dave's file; the origin knows dave's data port from the relayed login.
    expect(await alice.downloadRequest('dave', 'song d.mp3')).toMatchObject({ nick: 'dave', port: 7777 });
    await expect(dave.downloadRequest('alice', 'nope.mp3')).rejects.toMatchObject({ code: 'opennap.download_unavailable' });

    const toAlice = new Promise((resolve) => alice.once('privateMessage', resolve));
    dave.privateMessage('alice', 'hello there');
    expect(await toAlice).toEqual({ nick: 'dave', text: 'hello there' });
    const toDave = new Promise((resolve) => dave.once('privateMessage', resolve));
    alice.privateMessage('dave', 'hi back');
    expect(await toDave).toEqual({ nick: 'alice', text: 'hi back' });

    const before = origin.stats().errors['opennap.unknown_type'] ?? 0;
    dave.sendRaw(4321, 'whatever data');
    await waitFor(() => (origin.stats().errors['opennap.unknown_type'] ?? 0) === before + 1, 5000, 'origin to see the unknown type');
    expect((await dave.serverStats()).users).toBe(2); // 214 relayed both ways
  });

  it('drops only the client that sends garbage', async () => {
    const { proxy, p } = await world();
    const good = await client(p, 'good');
    const bad = net.connect({ host: LOOPBACK, port: p });
    bad.on('error', () => undefined);
    bad.resume(); // read, so the close is seen
    const badClosed = new Promise<void>((resolve) => bad.on('close', () => resolve()));
    // Not a login: a huge frame length with junk type, as a port scanner or a broken client would send.
    bad.write(Buffer.from([0xff, 0xff, 0x39, 0x30, 1, 2, 3, 4, 5, 6, 7, 8]));
    bad.write(Buffer.alloc(70_000, 0x41));
    await badClosed;
    const r = await good.search('FILENAME CONTAINS "still" MAX_RESULTS 1');
    expect(r.endedBy).toBe('end');
    expect(proxy.stats().sessions).toBe(1);
  });

  it("emits 'unhealthy' and resets the client when the origin cannot be reached", async () => {
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, LOOPBACK, () => r()));
    const deadPort = (dead.address() as net.AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const proxy = await startProxy(deadPort);
    cleanups.push(() => proxy.stop());
    const unhealthy = new Promise<UpstreamUnreachableError>((resolve) => proxy.once('unhealthy', resolve));
    const s = net.connect({ host: LOOPBACK, port: proxy.address().port });
    const ended = new Promise<string>((resolve) => {
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.on('close', () => resolve('close'));
    });
    const err = await unhealthy;
    expect(err).toMatchObject({ name: 'UpstreamUnreachableError', reason: 'connect_failed', code: 'service.upstream_connect_failed' });
    expect(proxy.healthy).toBe(false);
    expect(['ECONNRESET', 'close']).toContain(await ended);
    expect(proxy.stats().upstreamFailures).toBe(1);
  });

  it('expires cache entries after T (injected clock) and forwards again', async () => {
    let now = 1_000_000;
    const { proxy, p } = await world({ cacheTtlMs: 10_000, now: () => now });
    proxy.deposit(['amber'], [resultPayload('zoe', song('amber waves.mp3'))], now);
    const c = await client(p, 'carol');
    expect((await c.search('FILENAME CONTAINS "amber"')).results).toHaveLength(1);
    now += 10_001;
    expect((await c.search('FILENAME CONTAINS "amber"')).results).toHaveLength(0);
    const s = proxy.stats();
    expect(s).toMatchObject({ hits: 1, misses: 1, forwards: 1, expired: 1 });
    // A deposit already older than T is refused.
    expect(proxy.deposit(['old'], [], now - 20_000)).toBe('stale');
  });

  it('bounds the cache by entries (LRU), counting evictions', async () => {
    const { proxy } = await world({ maxCacheEntries: 2 });
    for (const k of ['one', 'two', 'three']) expect(proxy.deposit([k], [resultPayload('z', song(`${k}.mp3`))], Date.now())).toBe('stored');
    expect(proxy.stats()).toMatchObject({ cacheEntries: 2, evictions: 1 });
    expect(proxy.deposit([], [], Date.now())).toBe('no_keywords');
  });

  it('resetSessions() makes the client see a reset; drain() stops accepting and waits for sessions', async () => {
    const { proxy, p } = await world();
    const c = await client(p, 'carol');
    const err = new Promise<NodeJS.ErrnoException>((resolve) => c.on('socketError', resolve));
    expect(proxy.resetSessions()).toBe(1);
    expect((await err).code).toBe('ECONNRESET');
    await waitFor(() => proxy.stats().sessions === 0);

    const d = await client(p, 'dave');
    let drained = false;
    const draining = proxy.drain().then(() => {
      drained = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(drained).toBe(false);
    const refused = new Promise<string>((resolve) => {
      const s = net.connect({ host: LOOPBACK, port: p });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.on('close', () => resolve('close'));
    });
    expect(['ECONNREFUSED', 'close', 'ECONNRESET']).toContain(await refused);
    await d.close();
    await draining;
    expect(drained).toBe(true);
  });
});
