/**
 * `node dist/bench/bounded-maps.js`: the bounded maps of the live daemon's
 * server registry and of the cache proxy at their bounds, where the oldest
 * entry goes on every insert. The
 * baseline of the same run is the same operation while the map is still
 * filling; the figure is the ratio at the bound to it (about 1 when eviction
 * is O(1); Map.keys().next() made it 9× and growing, BENCHMARKS.md).
 *   - first-query set: new keyword sets asked once (MAX_ASKED_ONCE);
 *   - kept answers: answers kept at the 64 MB byte bound across servers;
 *   - clients: new client addresses of one server past MAX_CLIENTS_PER_SERVER (a flood);
 *   - result cache: deposits into the cache proxy's cache at its default 10,000 entries, a third
 *     of them followed by a hit on a recent entry (which then gets its second chance).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QueryDoneEvent } from '../analyzers/events.js';
import { DEFAULT_WARM_BYTES, MAX_ASKED_ONCE, MAX_CLIENTS_PER_SERVER, MAX_WARM_ANSWERS, ServerRegistry } from '../daemon/control/server-registry.js';
import { applyV8Tuning } from '../daemon/v8-tuning.js';
import { DEFAULTS } from '../policies/defaults.js';
import { ResultCache } from '../services/cache-proxy/result-cache.js';

const SERVER = { ip: '10.0.1.10', port: 8888 };
const CLIENT = { ip: '10.0.2.8', port: 40000 };
/** Operations timed in each phase. */
const OPS = 50_000;
/** Kept answers: one result of this many bytes each, over this many servers (so the byte bound, not the per-server one, binds). */
const ANSWER_BYTES = 1000;
const SERVERS = 64;

/** µs per call of `op(i)` for i in [from, from + OPS). */
function timeOps(from: number, op: (i: number) => void): number {
  const t = performance.now();
  for (let i = from; i < from + OPS; i++) op(i);
  return ((performance.now() - t) * 1000) / OPS;
}

/**
 * µs per call of `op` at and past `bound`: the calls below it first (untimed), then twice OPS calls
 * past it, the second timed (a Map's walk passes the slots the first pass deleted).
 */
function timeAtBound(bound: number, op: (i: number) => void): number {
  for (let i = 0; i < bound; i++) op(i);
  timeOps(bound, op);
  return timeOps(bound + OPS, op);
}

function askedOnce(): { fillingUs: number; atBoundUs: number } {
  const newRegistry = () => new ServerRegistry({ queryRateN: 5, firstQueryCopiesPerS: 0 });
  const askOf = (r: ServerRegistry) => (i: number): void => void r.wantsResults('opennap', SERVER, [`k${i}`]);
  return { fillingUs: timeOps(0, askOf(newRegistry())), atBoundUs: timeAtBound(MAX_ASKED_ONCE, askOf(newRegistry())) };
}

function keptAnswers(): { fillingUs: number; atBoundUs: number; evicted: number } {
  const payload = [Buffer.alloc(ANSWER_BYTES, 0x61)];
  const r = new ServerRegistry({ queryRateN: 5, warmBytes: DEFAULT_WARM_BYTES });
  // Far apart in capture time, so no two answers merge.
  const answer = (i: number): void => {
    const ts = (i + 1) * 40_000;
    const event: QueryDoneEvent = {
      kind: 'query_done', protocol: 'opennap', server: { ip: `10.0.1.${i % SERVERS}`, port: 8888 }, client: CLIENT,
      seq: i, queryTs: ts - 1, ts, results: 1, resultPayloads: payload, keywords: [`w${i}`],
    };
    r.onEvent(event);
  };
  const fillingUs = timeOps(0, answer);
  const bound = Math.ceil(DEFAULT_WARM_BYTES / ANSWER_BYTES);
  if (bound > SERVERS * MAX_WARM_ANSWERS) throw new Error('the per-server bound would bind first');
  for (let i = OPS; i < 3 * bound; i++) answer(i);
  const atBoundUs = timeOps(3 * bound, answer);
  return { fillingUs, atBoundUs, evicted: r.warmEvicted };
}

function newClients(): { fillingUs: number; atBoundUs: number } {
  // Every client seen once, a millisecond apart: each new one past the bound pushes the oldest out.
  const openOf = (r: ServerRegistry) => (i: number): void => {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    r.onEvent({ kind: 'session_open', protocol: 'opennap', server: SERVER, client: { ip, port: 40000 }, ts: 1000 + i });
  };
  const newRegistry = () => new ServerRegistry({ queryRateN: 5 });
  return { fillingUs: timeOps(0, openOf(newRegistry())), atBoundUs: timeAtBound(MAX_CLIENTS_PER_SERVER, openOf(newRegistry())) };
}

function resultCacheDeposits(): { fillingUs: number; atBoundUs: number; evicted: number } {
  const cacheOf = (maxEntries: number): ResultCache =>
    new ResultCache({ ttlMs: Number.MAX_SAFE_INTEGER, maxEntries, maxBytes: Number.MAX_SAFE_INTEGER });
  const depositInto = (c: ResultCache) => (i: number): void => {
    c.put(`k${i}`, [], 1, 1);
    if (i % 3 === 0) c.get(`k${Math.max(0, i - 100)}`, 1);
  };
  // The baseline: the same deposits into a cache too large to fill.
  const fillingUs = timeOps(0, depositInto(cacheOf(4 * OPS)));
  const c = cacheOf(DEFAULTS.cacheEntries);
  const atBoundUs = timeAtBound(DEFAULTS.cacheEntries, depositInto(c));
  return { fillingUs, atBoundUs, evicted: c.evictions };
}

applyV8Tuning();
const asked = askedOnce();
const kept = keptAnswers();
const clients = newClients();
const cache = resultCacheDeposits();
const result = {
  askedOnce: { ...asked, ratio: asked.atBoundUs / asked.fillingUs },
  keptAnswers: { ...kept, ratio: kept.atBoundUs / kept.fillingUs },
  newClients: { ...clients, ratio: clients.atBoundUs / clients.fillingUs },
  resultCache: { ...cache, ratio: cache.atBoundUs / cache.fillingUs },
};
const fmt = (n: number): string => n.toFixed(2);
process.stdout.write(
  `first-query set (${MAX_ASKED_ONCE} keyword sets): ${fmt(asked.fillingUs)} µs per new set while filling, ${fmt(asked.atBoundUs)} µs at the bound (${fmt(result.askedOnce.ratio)}×)\n` +
    `kept answers (${DEFAULT_WARM_BYTES / 1024 / 1024} MB): ${fmt(kept.fillingUs)} µs per answer while filling, ${fmt(kept.atBoundUs)} µs at the bound (${fmt(result.keptAnswers.ratio)}×, ${kept.evicted} evicted)\n` +
    `clients of one server (${MAX_CLIENTS_PER_SERVER}): ${fmt(clients.fillingUs)} µs per new client while filling, ${fmt(clients.atBoundUs)} µs at the bound (${fmt(result.newClients.ratio)}×)\n` +
    `cache proxy result cache (${DEFAULTS.cacheEntries}): ${fmt(cache.fillingUs)} µs per deposit while filling, ${fmt(cache.atBoundUs)} µs at the bound (${fmt(result.resultCache.ratio)}×, ${cache.evicted} evicted)\n`,
);
const out = join(process.cwd(), 'bench-out');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'bounded-maps.json'), JSON.stringify(result, null, 2) + '\n');
process.stdout.write(`wrote ${join(out, 'bounded-maps.json')}\n`);
