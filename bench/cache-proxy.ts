/**
 * Benchmark of the OpenNap cache proxy (seed 001 §5). For each of two
 * workloads, in one run:
 *   1. the directory server (opennap/server.ts) alone;
 *   2. the cache proxy in front of a fresh server, cache warm.
 * Workloads, each the same for both targets:
 *   - paper: the paper's catalogue (§5.3, 120 files shared by the 13
 *     searching peers, one keyword per search, Zipf-like popularity). A
 *     search costs the origin almost nothing here, so this says little about
 *     what a cache buys; it is kept because it is the paper's set-up.
 *   - directory: a realistically sized directory (opennap/catalogue.ts
 *     `directoryCatalogue`: 400 peers × 50 files = 20,000 files named from a
 *     5,000-word Zipf vocabulary, connected to the origin and idle) searched
 *     by the same number of clients that share nothing, with 2,000 distinct
 *     1–2 keyword queries of Zipf-like popularity, MAX_RESULTS 100.
 * Clients each keep K searches outstanding (13 × 16 by default). Server and
 * proxy each run in their own child process (fork), apart from this load
 * generator (bench/search-load.ts). Measured: searches/s, p50/p99 of search
 * sent → first 201/202, CPU µs per search of target and loader. Prints a
 * table with the ratio proxy/server per workload and writes bench-out/cache-proxy.json.
 *
 *   node dist/bench/cache-proxy.js [--duration S] [--clients N] [--outstanding K] [--workload paper|directory|both]
 *
 * Loopback only (127.0.0.1). Target: proxy ≥ 1.5× the server's searches/s with a lower p99.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { applyV8Tuning } from '../daemon/v8-tuning.js';
import {
  assignFilesToPeers,
  directoryCatalogue,
  directoryQueries,
  DIRECTORY_DEFAULTS,
  filesOfGroup,
  keywordPopularity,
  paperCatalogue,
} from '../opennap/catalogue.js';
import type { CatalogueFile } from '../opennap/catalogue.js';
import { encodeFrame } from '../opennap/codec.js';
import { MessageType } from '../opennap/message-types.js';
import { buildLogin, buildShareFile } from '../opennap/messages.js';
import { Random } from '../opennap/random.js';
import { MAX_RESULTS_CAP, serializeSearch } from '../opennap/search-expression.js';
import { OpenNapServer } from '../opennap/server.js';
import { ZipfSampler, zipfWeights } from '../opennap/zipf.js';
import { CacheProxy } from '../services/cache-proxy/cache-proxy.js';
import { directSource } from '../services/cache-proxy/direct-source.js';
import type { CacheProxyStats } from '../services/cache-proxy/types.js';
import { connectSearchLoad, cpuMicros, machineBusyMicros, newTally, summarize } from './search-load.js';
import type { LoadSummary, LoadTally, SearchLoadConnection } from './search-load.js';

const LOOPBACK = '127.0.0.1';
/** The paper's experiment: 7 peers in network A, 6 in network B. */
const PEERS_A = 7;
const DEFAULT_CLIENTS = 13;
const DEFAULT_OUTSTANDING = 16;
const DEFAULT_DURATION_S = 5;
/** Load before the measured window, so both targets are measured warm (JIT, caches). */
const RAMP_MS = 1000;
/** Longest wait for the proxy's forwarded answers to land in its cache before measuring. */
const WARM_TIMEOUT_MS = 10_000;
/** Latency samples kept per phase (32 MB): bounded whatever the rate (a reservoir beyond it, counted). */
const MAX_SAMPLES = 4_000_000;
/** Distinct queries of the directory workload: a few hours of a busy server's popular searches. */
const DIRECTORY_QUERIES = 2000;
/** Searches the warm-up keeps in flight per client: under the proxy's forward bound per session (64). */
const WARM_OUTSTANDING = 32;
/** Warm-up passes over the queries at most (a forward skipped under backlog is retried in the next pass). */
const WARM_PASSES = 5;

// ── child processes: the server, the proxy ────────────────────────────────

type ChildMessage = { kind: 'ready'; port: number } | { kind: 'stats'; stats: unknown } | { kind: 'cpu'; micros: number };
type ParentMessage = { kind: 'stats' } | { kind: 'cpu' } | { kind: 'stop' };

async function runChild(role: string, originPort: number): Promise<void> {
  // As in an `active-router` process (daemon/v8-tuning.ts).
  applyV8Tuning();
  let target: { stats(): unknown; stop(): Promise<void>; address(): { port: number } };
  if (role === 'server') {
    const server = new OpenNapServer({ host: LOOPBACK, port: 0 });
    await server.start();
    target = server;
  } else {
    const proxy = new CacheProxy({
      origin: { ip: LOOPBACK, port: originPort },
      listen: { host: LOOPBACK, port: 0 },
      cacheTtlMs: 10 * 60_000,
      maxCacheEntries: 100_000,
      maxCacheBytes: 256 * 1024 * 1024,
      upstreamConnectTimeoutMs: 5000,
      upstreamSource: directSource,
    });
    await proxy.start();
    target = proxy;
  }
  process.on('message', (m: ParentMessage) => {
    if (m.kind === 'stats') process.send?.({ kind: 'stats', stats: target.stats() } satisfies ChildMessage);
    else if (m.kind === 'cpu') {
      const u = process.cpuUsage();
      process.send?.({ kind: 'cpu', micros: u.user + u.system } satisfies ChildMessage);
    } else if (m.kind === 'stop') void target.stop().then(() => process.exit(0));
  });
  process.send?.({ kind: 'ready', port: target.address().port } satisfies ChildMessage);
}

class Child {
  private waiters: { resolve: (m: ChildMessage) => void; reject: (e: Error) => void }[] = [];

  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: ChildMessage) => this.waiters.shift()?.resolve(m));
    proc.on('exit', (code) => {
      for (const w of this.waiters.splice(0)) w.reject(new Error(`child exited with ${code}`));
    });
  }

  static async spawn(role: string, originPort = 0): Promise<{ child: Child; port: number }> {
    const proc = fork(fileURLToPath(import.meta.url), ['--role', role, '--origin-port', String(originPort)], { stdio: 'inherit' });
    const child = new Child(proc);
    const m = await child.next();
    if (m.kind !== 'ready') throw new Error(`${role} did not start`);
    return { child, port: m.port };
  }

  private next(): Promise<ChildMessage> {
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async stats<T>(): Promise<T> {
    const p = this.next();
    this.proc.send({ kind: 'stats' } satisfies ParentMessage);
    const m = await p;
    return (m as { stats: T }).stats;
  }

  /** CPU time (user + system, µs) the child has used so far. */
  async cpu(): Promise<number> {
    const p = this.next();
    this.proc.send({ kind: 'cpu' } satisfies ParentMessage);
    const m = await p;
    return (m as { micros: number }).micros;
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.send({ kind: 'stop' } satisfies ParentMessage);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

// ── workloads ───────────────────────────────────────────────────────────────

interface Workload {
  name: 'paper' | 'directory';
  label: string;
  /** One encoded 200 per distinct search, most popular first. */
  searches: Buffer[];
  /** Search weights, same order. */
  popularity: number[];
  /** Distinct cache keys among `searches` (what a warm proxy cache holds). */
  keys: number;
  /** What each searching client shares (through the target it searches). */
  searcherShares: CatalogueFile[][];
  /** Peers connected to the origin directly, sharing and idle (the rest of the network). */
  sharers: CatalogueFile[][];
}

function searchFrame(words: readonly string[]): Buffer {
  return encodeFrame(MessageType.Search, serializeSearch({ include: [...words], exclude: [], maxResults: MAX_RESULTS_CAP }));
}

function paperWorkload(clients: number): Workload {
  const catalogue = paperCatalogue(1);
  const rng = new Random(7);
  const countA = Math.min(PEERS_A, clients);
  const shares = [
    ...assignFilesToPeers(filesOfGroup(catalogue, 'A'), Math.max(1, countA), rng),
    ...assignFilesToPeers(filesOfGroup(catalogue, 'B'), Math.max(1, clients - countA), rng),
  ];
  return {
    name: 'paper',
    label: `paper catalogue: 120 files shared by the ${clients} searching peers, 1 keyword per search (126 keywords)`,
    searches: catalogue.keywords.map((k) => searchFrame([k.word])),
    popularity: keywordPopularity(catalogue),
    keys: catalogue.keywords.length,
    searcherShares: Array.from({ length: clients }, (_, i) => shares[i] ?? []),
    sharers: [],
  };
}

function directoryWorkload(clients: number): Workload {
  const dir = directoryCatalogue({ seed: 1 });
  const queries = directoryQueries(dir, DIRECTORY_QUERIES, 2);
  const files = dir.peers.reduce((n, p) => n + p.length, 0);
  return {
    name: 'directory',
    label:
      `directory: ${files} files (${DIRECTORY_DEFAULTS.peers} peers × ${DIRECTORY_DEFAULTS.filesPerPeer}, ` +
      `${DIRECTORY_DEFAULTS.vocabulary}-word Zipf vocabulary) on the origin; ${clients} searching clients sharing nothing; ` +
      `${queries.length} distinct 1–2 keyword queries, Zipf popularity, MAX_RESULTS ${MAX_RESULTS_CAP}`,
    searches: queries.map(searchFrame),
    popularity: zipfWeights(queries.length),
    keys: queries.length,
    searcherShares: Array.from({ length: clients }, () => []),
    sharers: dir.peers,
  };
}

function loginBytes(nick: string, files: readonly CatalogueFile[]): Buffer {
  const login = encodeFrame(MessageType.Login, buildLogin({ nick, password: 'pw', port: 6699, clientInfo: 'bench 1', linkType: 6 }));
  const shares = files.map((f) =>
    encodeFrame(MessageType.ShareFile, buildShareFile({ filename: f.name, md5: f.md5, size: f.size, bitrate: f.bitrate, freq: f.freq, duration: f.duration })),
  );
  return Buffer.concat([login, ...shares]);
}

/** Logs in `shares.length` clients on `port` (nick `<prefix><i>`), each sharing its files; they search with `tally`. */
async function connectClients(port: number, w: Workload, shares: readonly CatalogueFile[][], prefix: string, tally: LoadTally, seed: number): Promise<SearchLoadConnection[]> {
  const out: SearchLoadConnection[] = [];
  for (let i = 0; i < shares.length; i++) {
    const sampler = new ZipfSampler(w.popularity, new Random(seed * 1000 + i));
    const c = await connectSearchLoad(port, w.searches, () => sampler.sample(), tally);
    await c.login(loginBytes(`${prefix}${i + 1}`, shares[i] ?? []));
    out.push(c);
  }
  return out;
}

// ── measuring ───────────────────────────────────────────────────────────────

interface PhaseResult extends LoadSummary {
  target: 'server' | 'proxy';
  /** CPU of each child process during the measured window, in cores (1 = one core busy all the time). */
  cpuCores: Record<string, number>;
  /** CPU µs of the answering process (the server, or the proxy) per search answered. */
  cpuMicrosPerSearch: number;
  /** CPU other processes of the machine used over the window, in cores (of 2): others benchmark here too. */
  otherCores: number;
}

async function measure(
  target: 'server' | 'proxy',
  clients: SearchLoadConnection[],
  tally: LoadTally,
  outstanding: number,
  durationMs: number,
  children: Record<string, Child>,
): Promise<PhaseResult> {
  for (const c of clients) c.start(outstanding);
  await new Promise((r) => setTimeout(r, RAMP_MS));
  const names = Object.keys(children);
  const cpu0 = await Promise.all(names.map((n) => children[n]!.cpu()));
  tally.measuring = true;
  const loader0 = process.cpuUsage();
  const machine0 = machineBusyMicros();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  tally.measuring = false;
  const elapsed = performance.now() - t0;
  const loaderMicros = cpuMicros(loader0);
  const machineMicros = machineBusyMicros() - machine0;
  const cpu1 = await Promise.all(names.map((n) => children[n]!.cpu()));
  for (const c of clients) c.stop();
  const drainDeadline = Date.now() + 5000;
  while (clients.some((c) => c.pending > 0) && Date.now() < drainDeadline) await new Promise((r) => setTimeout(r, 10));
  const cpuCores: Record<string, number> = {};
  names.forEach((n, i) => {
    cpuCores[n] = Number(((cpu1[i]! - cpu0[i]!) / 1000 / elapsed).toFixed(2));
  });
  const load = summarize(tally, elapsed, loaderMicros);
  const answering = cpu1[0]! - cpu0[0]!;
  const ours = loaderMicros + names.reduce((sum, _n, i) => sum + (cpu1[i]! - cpu0[i]!), 0);
  return {
    target,
    ...load,
    cpuCores,
    cpuMicrosPerSearch: load.searches === 0 ? 0 : Number((answering / load.searches).toFixed(2)),
    otherCores: Number(Math.max(0, (machineMicros - ours) / 1000 / elapsed).toFixed(2)),
  };
}

/** Sends every search once, spread over the clients, at most WARM_OUTSTANDING in flight each, and waits for the answers. */
async function searchEachOnce(clients: SearchLoadConnection[], count: number): Promise<void> {
  let next = 0;
  while (next < count) {
    for (const c of clients) {
      while (c.pending < WARM_OUTSTANDING && next < count) c.searchOnce(next++);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  while (clients.some((c) => c.pending > 0)) await new Promise((r) => setTimeout(r, 5));
}

/** Warms the proxy's cache with every search of the workload; returns the entries it holds then. */
async function warm(proxy: Child, clients: SearchLoadConnection[], w: Workload): Promise<number> {
  const deadline = Date.now() + WARM_TIMEOUT_MS;
  let entries = 0;
  for (let pass = 0; pass < WARM_PASSES && entries < w.keys && Date.now() < deadline; pass++) {
    await searchEachOnce(clients, w.searches.length);
    // Forwards finish shortly after the answers the proxy gave from what it had.
    for (;;) {
      const s = await proxy.stats<CacheProxyStats>();
      entries = s.cacheEntries;
      if (entries >= w.keys || Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 50));
      if ((await proxy.stats<CacheProxyStats>()).cacheEntries === entries) break;
    }
  }
  return entries;
}

interface WorkloadResult {
  workload: Workload['name'];
  label: string;
  distinctSearches: number;
  server: PhaseResult;
  proxy: PhaseResult;
  /** Proxy searches/s over server searches/s. */
  ratio: number;
  p99Lower: boolean;
  /** Cache entries when measuring began, of `distinctSearches` keys. */
  warmEntries: number;
  /** Hits and misses of the proxy over the whole proxy phase (ramp and window). */
  proxyHits: number;
  proxyMisses: number;
  proxyStats: CacheProxyStats;
  originStatsDuringProxyPhase: unknown;
}

async function runWorkload(w: Workload, outstanding: number, durationMs: number): Promise<WorkloadResult> {
  // Phase 1: the server alone.
  const s1 = await Child.spawn('server');
  const t1 = newTally(MAX_SAMPLES);
  const sharers1 = await connectClients(s1.port, w, w.sharers, 'sharer', t1, 3);
  const direct = await connectClients(s1.port, w, w.searcherShares, 'peer', t1, 7);
  const server = await measure('server', direct, t1, outstanding, durationMs, { server: s1.child });
  for (const c of [...direct, ...sharers1]) c.close();
  await s1.child.stop();

  // Phase 2: the proxy in front of a fresh server, its cache warmed by every search once.
  const s2 = await Child.spawn('server');
  const p = await Child.spawn('proxy', s2.port);
  const t2 = newTally(MAX_SAMPLES);
  const sharers2 = await connectClients(s2.port, w, w.sharers, 'sharer', t2, 3);
  const viaProxy = await connectClients(p.port, w, w.searcherShares, 'peer', t2, 7);
  const warmEntries = await warm(p.child, viaProxy, w);
  const before = await p.child.stats<CacheProxyStats>();
  const proxy = await measure('proxy', viaProxy, t2, outstanding, durationMs, { proxy: p.child, origin: s2.child });
  const proxyStats = await p.child.stats<CacheProxyStats>();
  const originStats = await s2.child.stats<unknown>();
  for (const c of [...viaProxy, ...sharers2]) c.close();
  await p.child.stop();
  await s2.child.stop();
  const ratio = server.searchesPerSecond === 0 ? 0 : proxy.searchesPerSecond / server.searchesPerSecond;
  return {
    workload: w.name,
    label: w.label,
    distinctSearches: w.keys,
    server,
    proxy,
    ratio: Number(ratio.toFixed(3)),
    p99Lower: proxy.p99Ms < server.p99Ms,
    warmEntries,
    proxyHits: proxyStats.hits - before.hits,
    proxyMisses: proxyStats.misses - before.misses,
    proxyStats,
    originStatsDuringProxyPhase: originStats,
  };
}

// ── command line ───────────────────────────────────────────────────────────

function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      out.set(a.slice(2), argv[i + 1] ?? '');
      i++;
    }
  }
  return out;
}

function positiveInt(args: Map<string, string>, name: string, fallback: number): number {
  const raw = args.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`);
  return n;
}

function report(r: WorkloadResult, clients: number, outstanding: number, durationS: number): string {
  const row = (x: PhaseResult): string =>
    `${x.target.padEnd(8)} ${x.searchesPerSecond.toFixed(0).padStart(10)} ${x.p50Ms.toFixed(3).padStart(9)} ${x.p99Ms.toFixed(3).padStart(9)} ` +
    `${x.resultsPerSearch.toFixed(2).padStart(9)} ${x.cpuMicrosPerSearch.toFixed(2).padStart(12)} ${x.loaderCpuMicrosPerSearch.toFixed(2).padStart(12)} ` +
    `${Object.entries(x.cpuCores).map(([n, c]) => `${n} ${c.toFixed(2)}`).join(', ')}, loader ${x.loaderCores.toFixed(2)}, others ${x.otherCores.toFixed(2)}`;
  return [
    `== workload ${r.workload}: ${r.label}`,
    `   ${clients} clients × ${outstanding} outstanding, ${durationS} s per target; proxy cache warm: ${r.warmEntries} of ${r.distinctSearches} keys, ` +
      `hits ${r.proxyHits} / misses ${r.proxyMisses} in the proxy phase`,
    `${'target'.padEnd(8)} ${'search/s'.padStart(10)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'results'.padStart(9)} ${'cpu µs/srch'.padStart(12)} ${'load µs/srch'.padStart(12)} cpu cores`,
    row(r.server),
    row(r.proxy),
    `ratio proxy/server (${r.workload}): ${r.ratio.toFixed(2)}× searches/s (target ≥ 1.5×), p99 ${r.p99Lower ? 'lower' : 'NOT lower'} ` +
      `(${r.proxy.p99Ms.toFixed(3)} vs ${r.server.p99Ms.toFixed(3)} ms)`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const role = args.get('role');
  if (role !== undefined) {
    await runChild(role, Number(args.get('origin-port') ?? 0));
    return;
  }
  const durationMs = positiveInt(args, 'duration', DEFAULT_DURATION_S) * 1000;
  const clientCount = Math.floor(positiveInt(args, 'clients', DEFAULT_CLIENTS));
  const outstanding = Math.floor(positiveInt(args, 'outstanding', DEFAULT_OUTSTANDING));
  const which = args.get('workload') ?? 'both';
  if (which !== 'paper' && which !== 'directory' && which !== 'both') throw new Error(`--workload must be paper, directory or both, got "${which}"`);
  const workloads: Workload[] = [];
  if (which !== 'directory') workloads.push(paperWorkload(clientCount));
  if (which !== 'paper') workloads.push(directoryWorkload(clientCount));

  const results: WorkloadResult[] = [];
  for (const w of workloads) {
    const r = await runWorkload(w, outstanding, durationMs);
    results.push(r);
    process.stdout.write(report(r, clientCount, outstanding, durationMs / 1000));
  }
  mkdirSync('bench-out', { recursive: true });
  const out = {
    benchmark: 'cache-proxy',
    at: new Date().toISOString(),
    settings: { clients: clientCount, outstanding, durationS: durationMs / 1000, rampMs: RAMP_MS },
    target: 'proxy ≥ 1.5× the server searches/s with a lower p99, per workload',
    workloads: results.map((r) => ({ ...r, targets: { throughputRatioAtLeast1_5: r.ratio >= 1.5, lowerP99: r.p99Lower } })),
  };
  writeFileSync('bench-out/cache-proxy.json', `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write('wrote bench-out/cache-proxy.json\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/cache-proxy: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
