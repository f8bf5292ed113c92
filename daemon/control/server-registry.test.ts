// The registry the manager reads: metrics per server, and warm-start answers bounded by bytes.
import { describe, expect, it } from 'vitest';
import type { QueryDoneEvent } from '../../analyzers/events.js';
import { FIRST_QUERY_COPIES_PER_S, MAX_ASKED_ONCE, CLIENT_ORDER_SLACK_MS, MAX_CLIENTS_PER_SERVER, MAX_CLIENTS_TOTAL, MAX_TRACKED_SERVERS, ServerRegistry, WARM_MERGE_MS, WARM_REFRESH_MS, serverKey } from './server-registry.js';

const server = { ip: '10.0.1.10', port: 8888 };
const client = { ip: '10.0.2.8', port: 40000 };

function done(keyword: string, payloadBytes: number, ts: number, srv = server): QueryDoneEvent {
  return {
    kind: 'query_done', protocol: 'opennap', server: srv, client, seq: ts, queryTs: ts - 1, ts, results: 1,
    resultPayloads: [Buffer.alloc(payloadBytes, 0x61)], keywords: [keyword],
  };
}

describe('ServerRegistry', () => {
  it('keeps the newest answer per keyword set for the warm start', () => {
    const r = new ServerRegistry({ queryRateN: 5 });
    r.onEvent(done('rock', 10, 1));
    r.onEvent(done('jazz', 10, 2));
    r.onEvent(done('rock', 20, 3));
    const answers = r.warmAnswers(serverKey('opennap', server));
    expect(answers.map((a) => [a.keywords[0], a.ts])).toEqual([['jazz', 2], ['rock', 3]]);
  });

  it("merges answers to different searchers, since each lacks its searcher's own files", () => {
    const r = new ServerRegistry({ queryRateN: 5, firstQueryCopiesPerS: 0 });
    const file = (name: string): Buffer => Buffer.from(`"${name}.mp3" 0 1000 128 44100 60 user 1 0`, 'latin1');
    const answer = (ip: string, ts: number, names: string[]): QueryDoneEvent => ({
      ...done('rock', 1, ts), client: { ip, port: 40000 }, resultPayloads: names.map(file), results: names.length,
    });
    const payloads = (): string[] => r.warmAnswers(serverKey('opennap', server)).flatMap((a) => a.resultPayloads.map((p) => p.toString('latin1').split('"')[1]!));
    r.onEvent(answer('10.0.2.1', 1000, ['b', 'c'])); // searcher 1 shares a
    expect(r.wantsResults('opennap', server, ['rock'])).toBe(false); // incomplete, but no first-query budget here
    expect(new ServerRegistry({ queryRateN: 5 }).wantsResults('opennap', server, ['rock'])).toBe(true);
    r.onEvent(answer('10.0.2.1', 2000, ['b', 'c'])); // the same searcher again: still without its own files
    expect(payloads()).toEqual(['b.mp3', 'c.mp3']);
    r.onEvent(answer('10.0.2.2', 3000, ['a', 'c'])); // searcher 2 shares b
    expect(payloads()).toEqual(['a.mp3', 'c.mp3', 'b.mp3']);
    expect(r.warmAnswers(serverKey('opennap', server))[0]).toMatchObject({ ts: 3000, results: 3 });
    expect(r.wantsResults('opennap', server, ['rock'])).toBe(false); // complete and fresh
    // Past WARM_MERGE_MS from the oldest answer merged, a new answer starts afresh: files of users gone do not live on.
    r.onEvent(answer('10.0.2.3', 1000 + WARM_MERGE_MS + 1, ['a']));
    expect(payloads()).toEqual(['a.mp3']);
  });

  it('asks again for an incomplete answer only within the first-query budget', () => {
    const r = new ServerRegistry({ queryRateN: 5 });
    r.onEvent(done('rock', 10, 1000));
    const asks = Array.from({ length: FIRST_QUERY_COPIES_PER_S + 1 }, () => r.wantsResults('opennap', server, ['rock']));
    expect(asks.filter(Boolean)).toHaveLength(FIRST_QUERY_COPIES_PER_S);
  });

  it('drops the oldest answers, across servers, beyond the byte bound', () => {
    const other = { ip: '10.0.1.11', port: 8888 };
    const r = new ServerRegistry({ queryRateN: 5, warmBytes: 250 });
    r.onEvent(done('a', 100, 1));
    r.onEvent(done('b', 100, 2, other));
    r.onEvent(done('c', 100, 3));
    expect(r.warmAnswers(serverKey('opennap', server)).map((a) => a.keywords[0])).toEqual(['c']);
    expect(r.warmAnswers(serverKey('opennap', other)).map((a) => a.keywords[0])).toEqual(['b']);
    expect(r.warmEvicted).toBe(1);
  });

  it('keeps no answers when warm starts are off (replay)', () => {
    const r = new ServerRegistry({ queryRateN: 5, warmBytes: 0 });
    r.onEvent(done('a', 100, 1));
    expect(r.warmAnswers(serverKey('opennap', server))).toEqual([]);
    expect(r.list()).toHaveLength(1);
  });

  it('feeds queries and first responses into the server metric window', () => {
    const r = new ServerRegistry({ queryRateN: 2 });
    for (let i = 0; i < 4; i++) {
      r.onEvent({ kind: 'query', protocol: 'opennap', server, client, seq: i, keywords: ['k'], maxResults: 100, ts: 1000 + i * 100 });
      r.onEvent({ kind: 'first_response', protocol: 'opennap', server, client, seq: i, queryTs: 1000 + i * 100, ts: 1010 + i * 100 });
    }
    const snap = r.snapshot(serverKey('opennap', server), 1400, 10_000)!;
    expect(snap.queries).toBe(4);
    expect(snap.answered).toBe(4);
    expect(snap.rtAvgMs).toBe(10);
  });

  it('gives a new N of the query rate to servers tracked now and later', () => {
    const r = new ServerRegistry({ queryRateN: 10 });
    const other = { ip: '10.0.1.11', port: 8888 };
    const q = (srv: typeof server, ts: number) => r.onEvent({ kind: 'query', protocol: 'opennap', server: srv, client, seq: ts, keywords: ['k'], maxResults: 100, ts });
    q(server, 1000);
    r.setQueryRateN(2);
    q(server, 1100);
    q(server, 1200);
    q(other, 1000);
    q(other, 1500);
    expect(r.snapshot(serverKey('opennap', server), 2000, 10_000)?.qrAvg).toBeCloseTo(2 / 0.1, 9);
    expect(r.snapshot(serverKey('opennap', other), 2000, 10_000)?.qrAvg).toBeCloseTo(2 / 0.5, 9);
  });

  it('drops the least recently seen server beyond the bound, and starts it afresh when it is seen again', () => {
    const r = new ServerRegistry({ queryRateN: 5 });
    const at = (i: number) => ({ ip: `10.${i >> 8}.${i & 255}.1`, port: 8888 });
    for (let i = 0; i <= MAX_TRACKED_SERVERS; i++) r.onEvent({ kind: 'server_seen', protocol: 'opennap', server: at(i), ts: 1000 + i, learnt: 'port' });
    expect(r.list()).toHaveLength(MAX_TRACKED_SERVERS);
    expect(r.evicted).toBe(1);
    expect(r.get(serverKey('opennap', at(0)))).toBeUndefined();
    r.onEvent({ kind: 'query', protocol: 'opennap', server: at(0), client, seq: 1, keywords: ['k'], maxResults: 100, ts: 9000 });
    const again = r.get(serverKey('opennap', at(0)))!;
    expect(again.firstSeen).toBe(9000);
    expect(again.metrics.snapshot(9000, 10_000).queries).toBe(1);
    expect(r.evicted).toBe(2);
  });

  it('counts the clients seen within a window and forgets older ones when pruned', () => {
    const r = new ServerRegistry({ queryRateN: 5 });
    const query = (ip: string, ts: number) =>
      r.onEvent({ kind: 'query', protocol: 'opennap', server, client: { ip, port: 40000 }, seq: ts, keywords: ['k'], maxResults: 100, ts });
    query('10.0.2.1', 1000);
    query('10.0.2.2', 2000);
    r.onEvent({ kind: 'login', protocol: 'opennap', server, client: { ip: '10.0.2.3', port: 40001 }, nick: 'n', ts: 3000 });
    query('10.0.2.1', 4000); // seen again: counted once, with its newest time
    const s = r.get(serverKey('opennap', server))!;
    expect(r.clientsSince(s, 0)).toBe(3);
    expect(r.clientsSince(s, 2500)).toBe(2);
    r.pruneClients(2000);
    expect(s.clientPlacement.liveKeys()).toEqual(['10.0.2.3', '10.0.2.1']); // .1 moved to the end when seen again
    expect(r.counters()).toEqual({});
  });

  it('keeps a client seen again within CLIENT_ORDER_SLACK_MS in its place, and still prunes by last sighting', () => {
    const r = new ServerRegistry({ queryRateN: 5 });
    const open = (ip: string, ts: number) => r.onEvent({ kind: 'session_open', protocol: 'opennap', server, client: { ip, port: 40000 }, ts });
    open('10.0.2.1', 1000);
    open('10.0.2.2', 1500);
    const again = 1000 + CLIENT_ORDER_SLACK_MS - 200; // later than 1500, within the slack: .1 keeps its place
    open('10.0.2.1', again);
    const s = r.get(serverKey('opennap', server))!;
    expect(s.clientPlacement.liveKeys()).toEqual(['10.0.2.1', '10.0.2.2']);
    expect(r.clientsSince(s, 1500)).toBe(1); // counted by time, not by place
    r.pruneClients(1600); // .2 goes although .1, placed before it, stays
    expect(s.clientPlacement.liveKeys()).toEqual(['10.0.2.1']);
    // A client seen every half second for a minute still moves now and then, so one that went quiet
    // behind it is forgotten on time.
    for (let t = again + 500; t <= 60_000; t += 500) {
      open('10.0.2.1', t);
      if (t === 30_300) open('10.0.2.3', t);
    }
    r.pruneClients(59_000);
    expect(s.clientPlacement.liveKeys()).toEqual(['10.0.2.1']);
    expect(s.clients.get('10.0.2.1')?.lastTs).toBe(59_800);
  });

  it('keeps at most MAX_CLIENTS_PER_SERVER clients between prunes, counting the ones it drops', () => {
    const r = new ServerRegistry({ queryRateN: 5 });
    for (let i = 0; i < MAX_CLIENTS_PER_SERVER + 10; i++) {
      r.onEvent({ kind: 'session_open', protocol: 'opennap', server, client: { ip: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, port: 40000 }, ts: 1000 });
    }
    expect(r.get(serverKey('opennap', server))!.clients.size).toBe(MAX_CLIENTS_PER_SERVER);
    expect(r.counters()).toEqual({ 'registry.clients_evicted': 10 });
  });

  it('makes room from the least recently placed client, and its order stays that of the map', () => {
    const r = new ServerRegistry({ queryRateN: 5 });
    const ip = (i: number) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
    const open = (i: number, ts: number) => r.onEvent({ kind: 'session_open', protocol: 'opennap', server, client: { ip: ip(i), port: 40000 }, ts });
    for (let i = 0; i < MAX_CLIENTS_PER_SERVER; i++) open(i, 1000);
    open(0, 1000 + CLIENT_ORDER_SLACK_MS + 1); // seen again after the slack: moved to the end
    open(MAX_CLIENTS_PER_SERVER, 3000);
    open(MAX_CLIENTS_PER_SERVER + 1, 3000);
    const s = r.get(serverKey('opennap', server))!;
    expect(s.clients.has(ip(0))).toBe(true);
    expect(s.clients.has(ip(1))).toBe(false);
    expect(s.clients.has(ip(2))).toBe(false);
    const order = s.clientPlacement.liveKeys();
    expect(order.slice(-3)).toEqual([ip(0), ip(MAX_CLIENTS_PER_SERVER), ip(MAX_CLIENTS_PER_SERVER + 1)]);
    expect(new Set(order)).toEqual(new Set(s.clients.keys()));
    r.pruneClients(2000); // all but the three seen after 2000
    expect(s.clientPlacement.liveKeys()).toEqual([ip(0), ip(MAX_CLIENTS_PER_SERVER), ip(MAX_CLIENTS_PER_SERVER + 1)]);
    expect(s.clients.size).toBe(3);
  });

  it('keeps at most MAX_CLIENTS_TOTAL clients across servers, and a pruned or evicted server gives its room back', () => {
    const r = new ServerRegistry({ queryRateN: 5 });
    const perServer = MAX_CLIENTS_TOTAL / 4;
    const srv = (k: number) => ({ ip: `10.1.0.${k}`, port: 8888 });
    const open = (k: number, i: number, ts: number) =>
      r.onEvent({ kind: 'session_open', protocol: 'opennap', server: srv(k), client: { ip: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, port: 40000 }, ts });
    for (let k = 0; k < 4; k++) for (let i = 0; i < perServer; i++) open(k, i, 1000);
    open(4, 0, 2000); // the fifth server starts with no client to give up: this one is not kept
    expect(r.get(serverKey('opennap', srv(4)))!.clients.size).toBe(0);
    open(0, perServer, 2000); // server 0 makes room from its own clients
    expect(r.get(serverKey('opennap', srv(0)))!.clients.size).toBe(perServer);
    expect(r.counters()).toEqual({ 'registry.clients_evicted': 2 });
    r.pruneClients(1000); // all but the one seen at 2000
    open(4, 0, 3000);
    expect(r.get(serverKey('opennap', srv(4)))!.clients.size).toBe(1);
    expect(r.counters()).toEqual({ 'registry.clients_evicted': 2 });
  });

  it('keeps one entry per protocol, address and port (the same address on two ports is two servers)', () => {
    const r = new ServerRegistry({ queryRateN: 5 });
    r.declare('opennap', server, 1);
    r.onEvent({ kind: 'server_seen', protocol: 'opennap', server: { ...server }, ts: 2, learnt: 'probe' });
    r.onEvent({ kind: 'server_seen', protocol: 'opennap', server: { ...server, port: 8889 }, ts: 3, learnt: 'port' });
    r.onEvent({ kind: 'server_seen', protocol: 'opennap', server: { ip: '::1', port: 8888 }, ts: 4, learnt: 'port' });
    expect(r.list().map((s) => [s.key, s.learnt, s.lastSeen])).toEqual([
      ['opennap:10.0.1.10:8888', 'probe', 2],
      ['opennap:10.0.1.10:8889', 'port', 3],
      ['opennap:[::1]:8888', 'port', 4],
    ]);
  });

  it("asks for a keyword set's results from its second query on, then again once the kept answer is stale", () => {
    const r = new ServerRegistry({ queryRateN: 5, firstQueryCopiesPerS: 0 });
    const other = { ip: '10.0.1.11', port: 8888 };
    expect(r.wantsResults('opennap', server, ['rock', 'blue'])).toBe(false); // a one-off search is never copied
    expect(r.wantsResults('opennap', other, ['blue', 'rock'])).toBe(false); // per server
    expect(r.wantsResults('opennap', server, ['blue', 'rock'])).toBe(true); // asked again, in any order
    r.onEvent({ ...done('rock', 10, 1000), keywords: ['rock', 'blue'] });
    expect(r.wantsResults('opennap', server, ['rock', 'blue'])).toBe(false); // kept and fresh
    r.onEvent(done('jazz', 10, 1000 + WARM_REFRESH_MS + 1)); // time moves on (capture time)
    expect(r.wantsResults('opennap', server, ['rock', 'blue'])).toBe(true); // stale: refresh
    expect(r.wantsResults('opennap', other, ['rock', 'blue'])).toBe(true);
    expect(r.wantsResults('opennap', server, [])).toBe(false);
    expect(new ServerRegistry({ queryRateN: 5, warmBytes: 0 }).wantsResults('opennap', server, ['x'])).toBe(false);
  });

  it('forgets the oldest keyword set asked once beyond its bound', () => {
    const r = new ServerRegistry({ queryRateN: 5, firstQueryCopiesPerS: 0 });
    for (let i = 0; i <= MAX_ASKED_ONCE; i++) r.wantsResults('opennap', server, [`k${i}`]);
    expect(r.wantsResults('opennap', server, ['k0'])).toBe(false); // forgotten: counts as a first query again
    expect(r.wantsResults('opennap', server, [`k${MAX_ASKED_ONCE}`])).toBe(true);
  });

  it('forgets keyword sets asked once in the order they were asked, whatever left from the middle', () => {
    const r = new ServerRegistry({ queryRateN: 5, firstQueryCopiesPerS: 0 });
    const ask = (k: string) => r.wantsResults('opennap', server, [k]);
    for (let i = 0; i < MAX_ASKED_ONCE; i++) ask(`k${i}`);
    expect(ask('k1')).toBe(true); // asked again: leaves from the middle
    expect(ask('n0')).toBe(false); // takes its room: nothing forgotten
    expect(ask('n1')).toBe(false); // forgets k0, the oldest
    expect(ask('k2')).toBe(true); // still remembered
    expect(ask('k0')).toBe(false); // forgotten; asked once again now, into k2's room
    expect(ask('n2')).toBe(false); // forgets k3, the oldest left
    expect(ask('k4')).toBe(true);
    expect(ask('k3')).toBe(false);
  });

  it('keeps the answers of the byte bound in the order they were kept, as a list would', () => {
    const other = { ip: '10.0.1.11', port: 8888 };
    const cap = 1000;
    const r = new ServerRegistry({ queryRateN: 5, warmBytes: cap });
    const model: { srv: string; key: string; bytes: number }[] = [];
    let evicted = 0;
    let seed = 7;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    for (let i = 0; i < 5000; i++) {
      const srv = next(2) === 0 ? server : other;
      const key = `w${next(40)}`;
      const bytes = 1 + next(120);
      // Far apart in time: no two answers merge.
      r.onEvent(done(key, bytes, (i + 1) * (WARM_MERGE_MS + 1), srv));
      const at = model.findIndex((m) => m.srv === srv.ip && m.key === key);
      if (at >= 0) model.splice(at, 1);
      model.push({ srv: srv.ip, key, bytes });
      while (model.reduce((n, m) => n + m.bytes, 0) > cap) {
        model.shift();
        evicted++;
      }
    }
    for (const srv of [server, other]) {
      const kept = r.warmAnswers(serverKey('opennap', srv)).map((a) => a.keywords[0]);
      expect(kept).toEqual(model.filter((m) => m.srv === srv.ip).map((m) => m.key));
    }
    expect(r.warmEvicted).toBe(evicted);
  });

  it('copies first queries too, up to FIRST_QUERY_COPIES_PER_S per second of capture time', () => {
    const r = new ServerRegistry({ queryRateN: 5 });
    const first = (prefix: string): boolean[] =>
      Array.from({ length: FIRST_QUERY_COPIES_PER_S + 1 }, (_, i) => r.wantsResults('opennap', server, [`${prefix}${i}`]));
    const burst = first('a');
    expect(burst.filter(Boolean)).toHaveLength(FIRST_QUERY_COPIES_PER_S); // one second's worth at once
    expect(burst[FIRST_QUERY_COPIES_PER_S]).toBe(false); // then remembered as asked once
    expect(r.wantsResults('opennap', server, [`a${FIRST_QUERY_COPIES_PER_S}`])).toBe(true); // its second query
    r.onEvent(done('jazz', 10, 500)); // half a second of capture time later: half the budget back
    expect(first('b').filter(Boolean)).toHaveLength(FIRST_QUERY_COPIES_PER_S / 2);
    r.onEvent(done('jazz', 10, 100_000)); // a long pause refills no more than one second's worth
    expect(first('c').filter(Boolean)).toHaveLength(FIRST_QUERY_COPIES_PER_S);
  });
});
