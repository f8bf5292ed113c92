/**
 * Benchmark of the OpenNap cache proxy (seed 001 §5), in one run:
 *   1. the directory server (opennap/server.ts) alone;
 *   2. the cache proxy in front of that server, cache warm.
 * Same workload both times: the paper's catalogue (§5.3, 120 files shared by
 * 13 peers, Zipf-like keyword popularity), 13 clients each keeping 16
 * searches outstanding. Server and proxy each run in their own child
 * process (fork), apart from this load generator. Measured: searches/s and
 * p50/p99 of search sent → first 201/202. Prints a table with the ratio
 * proxy/server and writes bench-out/cache-proxy.json.
 *
 *   node dist/bench/cache-proxy.js [--duration S] [--clients N] [--outstanding K]
 *
 * Loopback only (127.0.0.1). Target: proxy ≥ 1.5× the server's searches/s with a lower p99.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { assignFilesToPeers, filesOfGroup, KeywordPicker, paperCatalogue } from '../opennap/catalogue.js';
import type { CatalogueFile } from '../opennap/catalogue.js';
import { FrameDecoder, WIRE_MAX_DATA, encodeFrame, encodeFrames } from '../opennap/codec.js';
import { MessageType } from '../opennap/message-types.js';
import { buildLogin, buildShareFile } from '../opennap/messages.js';
import { Random } from '../opennap/random.js';
import { OpenNapServer } from '../opennap/server.js';
import { CacheProxy } from '../services/cache-proxy/cache-proxy.js';
import { directSource } from '../services/cache-proxy/direct-source.js';
import { percentileSorted } from '../daemon/metrics/percentile.js';

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
/** Latency samples kept per phase: bounded whatever the rate (a reservoir beyond it). */
const MAX_SAMPLES = 200_000;

// ── child processes: the server, the proxy ────────────────────────────────

type ChildMessage = { kind: 'ready'; port: number } | { kind: 'stats'; stats: unknown } | { kind: 'cpu'; micros: number };
type ParentMessage = { kind: 'stats' } | { kind: 'cpu' } | { kind: 'stop' };

async function runChild(role: string, originPort: number): Promise<void> {
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

// ── the load generator ─────────────────────────────────────────────────────

interface Phase {
  measuring: boolean;
  running: boolean;
  completed: number;
  results: number;
  samples: number[];
  seen: number;
  rng: Random;
}

function record(phase: Phase, ms: number): void {
  phase.seen++;
  if (phase.samples.length < MAX_SAMPLES) phase.samples.push(ms);
  else {
    const j = phase.rng.int(phase.seen);
    if (j < MAX_SAMPLES) phase.samples[j] = ms;
  }
}

/** One peer: logs in, shares its files, then keeps `outstanding` searches in flight while the phase runs. */
class LoadClient {
  private readonly socket: net.Socket;
  private readonly decoder = new FrameDecoder(WIRE_MAX_DATA);
  /** Per outstanding search: when sent (performance.now), whether its first response came, whether it is measured. */
  private readonly open: { sentAt: number; answered: boolean; measured: boolean; results: number }[] = [];
  private loginResolve: (() => void) | undefined;
  private phase: Phase | undefined;

  constructor(
    port: number,
    private readonly nick: string,
    private readonly picker: KeywordPicker,
  ) {
    this.socket = net.connect({ host: LOOPBACK, port });
    this.socket.setNoDelay(true);
    this.socket.on('error', (err) => {
      process.stderr.write(`client ${nick}: ${err.message}\n`);
    });
    this.socket.on('data', (c: Buffer) => this.onData(c));
  }

  async login(files: readonly CatalogueFile[]): Promise<void> {
    await new Promise<void>((resolve) => this.socket.once('connect', () => resolve()));
    const loggedIn = new Promise<void>((resolve) => {
      this.loginResolve = resolve;
    });
    this.socket.write(encodeFrame(MessageType.Login, buildLogin({ nick: this.nick, password: 'pw', port: 6699, clientInfo: 'bench 1', linkType: 6 })));
    await loggedIn;
    if (files.length > 0) {
      this.socket.write(
        encodeFrames(files.map((f) => ({ type: MessageType.ShareFile, data: buildShareFile({ filename: f.name, md5: f.md5, size: f.size, bitrate: f.bitrate, freq: f.freq, duration: f.duration }) }))),
      );
    }
  }

  /** Sends one search for `word` (outside a phase: used for the warm-up). */
  search(word: string): void {
    this.open.push({ sentAt: performance.now(), answered: false, measured: this.phase?.measuring === true, results: 0 });
    this.socket.write(searchFrame(word));
  }

  get pending(): number {
    return this.open.length;
  }

  run(phase: Phase, outstanding: number): void {
    this.phase = phase;
    for (let i = 0; i < outstanding; i++) this.search(this.picker.next());
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    // Corked: the searches that replace the ones answered in this chunk leave in one write,
    // so the load generator spends less per search than the targets it measures.
    this.socket.cork();
    try {
      this.onFrames();
    } finally {
      this.socket.uncork();
    }
  }

  private onFrames(): void {
    for (;;) {
      const r = this.decoder.next();
      if (r.kind !== 'ok') return;
      const type = r.frame.type;
      if (type === MessageType.LoginAck) {
        this.loginResolve?.();
        this.loginResolve = undefined;
      } else if (type === MessageType.SearchResult || type === MessageType.SearchEnd) {
        this.onResponse(type === MessageType.SearchEnd);
      }
    }
  }

  private onResponse(end: boolean): void {
    const head = this.open[0];
    if (head === undefined) return;
    const phase = this.phase;
    if (!head.answered) {
      head.answered = true;
      if (head.measured && phase !== undefined && phase.measuring) record(phase, performance.now() - head.sentAt);
    }
    if (!end) {
      head.results++;
      return;
    }
    this.open.shift();
    if (phase === undefined) return;
    if (head.measured && phase.measuring) {
      phase.completed++;
      phase.results += head.results;
    }
    if (phase.running) this.search(this.picker.next());
  }
}

/** Search frames by keyword, encoded once: the load generator must cost far less per search than the targets. */
const SEARCH_FRAMES = new Map<string, Buffer>();

function searchFrame(word: string): Buffer {
  let f = SEARCH_FRAMES.get(word);
  if (f === undefined) {
    f = encodeFrame(MessageType.Search, `FILENAME CONTAINS "${word}" MAX_RESULTS 100`);
    SEARCH_FRAMES.set(word, f);
  }
  return f;
}

interface PhaseResult {
  target: string;
  /** CPU of each child process during the measured window, in cores (1 = one core busy all the time). */
  cpuCores: Record<string, number>;
  /** CPU µs of the answering process (the server, or the proxy) per search answered. */
  cpuMicrosPerSearch: number;
  searches: number;
  searchesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  resultsPerSearch: number;
}

async function connectClients(port: number, count: number, seed: number): Promise<LoadClient[]> {
  const catalogue = paperCatalogue(1);
  const rng = new Random(seed);
  const countA = Math.min(PEERS_A, count);
  const shares = [
    ...assignFilesToPeers(filesOfGroup(catalogue, 'A'), Math.max(1, countA), rng),
    ...assignFilesToPeers(filesOfGroup(catalogue, 'B'), Math.max(1, count - countA), rng),
  ];
  const clients: LoadClient[] = [];
  for (let i = 0; i < count; i++) {
    const c = new LoadClient(port, `peer${i + 1}`, new KeywordPicker(catalogue, new Random(seed * 1000 + i)));
    await c.login(shares[i] ?? []);
    clients.push(c);
  }
  return clients;
}

async function measure(
  target: string,
  clients: LoadClient[],
  outstanding: number,
  durationMs: number,
  seed: number,
  children: Record<string, Child>,
): Promise<PhaseResult> {
  const phase: Phase = { measuring: false, running: true, completed: 0, results: 0, samples: [], seen: 0, rng: new Random(seed) };
  for (const c of clients) c.run(phase, outstanding);
  await new Promise((r) => setTimeout(r, RAMP_MS));
  const names = Object.keys(children);
  const cpu0 = await Promise.all(names.map((n) => children[n]!.cpu()));
  phase.measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  phase.measuring = false;
  const elapsed = performance.now() - t0;
  const cpu1 = await Promise.all(names.map((n) => children[n]!.cpu()));
  const cpuCores: Record<string, number> = {};
  names.forEach((n, i) => {
    cpuCores[n] = (cpu1[i]! - cpu0[i]!) / 1000 / elapsed;
  });
  const answering = cpu1[0]! - cpu0[0]!;
  phase.running = false;
  const drainDeadline = Date.now() + 5000;
  while (clients.some((c) => c.pending > 0) && Date.now() < drainDeadline) await new Promise((r) => setTimeout(r, 10));
  const sorted = phase.samples.sort((a, b) => a - b);
  return {
    target,
    cpuCores,
    cpuMicrosPerSearch: phase.completed === 0 ? 0 : answering / phase.completed,
    searches: phase.completed,
    searchesPerSecond: (phase.completed * 1000) / elapsed,
    p50Ms: percentileSorted(sorted, 50) ?? 0,
    p99Ms: percentileSorted(sorted, 99) ?? 0,
    resultsPerSearch: phase.completed === 0 ? 0 : phase.results / phase.completed,
  };
}

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
  const keywords = paperCatalogue(1).keywords.map((k) => k.word);

  const load0 = process.cpuUsage();
  const wall0 = performance.now();
  // Phase 1: the server alone.
  const s1 = await Child.spawn('server');
  const direct = await connectClients(s1.port, clientCount, 7);
  const server = await measure('server', direct, outstanding, durationMs, 11, { server: s1.child });
  for (const c of direct) c.close();
  await s1.child.stop();

  // Phase 2: the proxy in front of a fresh server, its cache warmed by one search per keyword.
  const s2 = await Child.spawn('server');
  const p = await Child.spawn('proxy', s2.port);
  const viaProxy = await connectClients(p.port, clientCount, 7);
  // Spread over the clients: each session forwards a bounded number of searches at once.
  keywords.forEach((w, i) => viaProxy[i % viaProxy.length]!.search(w));
  const warmDeadline = Date.now() + WARM_TIMEOUT_MS;
  let proxyStats = await p.child.stats<{ cacheEntries: number }>();
  while (proxyStats.cacheEntries < keywords.length && Date.now() < warmDeadline) {
    await new Promise((r) => setTimeout(r, 50));
    proxyStats = await p.child.stats<{ cacheEntries: number }>();
  }
  while (viaProxy.some((c) => c.pending > 0)) await new Promise((r) => setTimeout(r, 10));
  const proxy = await measure('proxy', viaProxy, outstanding, durationMs, 11, { proxy: p.child, origin: s2.child });
  const finalProxyStats = await p.child.stats<Record<string, unknown>>();
  const originStats = await s2.child.stats<Record<string, unknown>>();
  for (const c of viaProxy) c.close();
  await p.child.stop();
  await s2.child.stop();

  const loadUsage = process.cpuUsage(load0);
  const loadCores = (loadUsage.user + loadUsage.system) / 1000 / (performance.now() - wall0);
  const ratio = server.searchesPerSecond === 0 ? 0 : proxy.searchesPerSecond / server.searchesPerSecond;
  const rows = [server, proxy].map(
    (r) =>
      `${r.target.padEnd(8)} ${r.searchesPerSecond.toFixed(0).padStart(10)} ${r.p50Ms.toFixed(3).padStart(9)} ${r.p99Ms.toFixed(3).padStart(9)} ${r.resultsPerSearch.toFixed(2).padStart(9)} ${r.cpuMicrosPerSearch.toFixed(2).padStart(12)} ${Object.entries(r.cpuCores).map(([n, c]) => `${n} ${c.toFixed(2)}`).join(', ')}`,
  );
  process.stdout.write(
    [
      `cache proxy benchmark: ${clientCount} clients × ${outstanding} outstanding, paper catalogue, ${durationMs / 1000} s per target`,
      `${'target'.padEnd(8)} ${'search/s'.padStart(10)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'results'.padStart(9)} ${'cpu µs/srch'.padStart(12)} cpu cores`,
      ...rows,
      `load generator cpu: ${loadCores.toFixed(2)} cores over both phases (≈1.0 means it, not the target, set the pace)`,
      `ratio proxy/server: ${ratio.toFixed(2)}× searches/s (target ≥ 1.5×), p99 ${proxy.p99Ms < server.p99Ms ? 'lower' : 'NOT lower'} (${proxy.p99Ms.toFixed(3)} vs ${server.p99Ms.toFixed(3)} ms)`,
      '',
    ].join('\n'),
  );
  mkdirSync('bench-out', { recursive: true });
  const out = {
    benchmark: 'cache-proxy',
    at: new Date().toISOString(),
    workload: { clients: clientCount, outstanding, durationS: durationMs / 1000, rampMs: RAMP_MS, catalogue: 'paper (seed 001 §5.3), seed 1', keywords: keywords.length },
    server,
    proxy,
    ratio,
    loadGeneratorCores: loadCores,
    targets: { throughputRatioAtLeast1_5: ratio >= 1.5, lowerP99: proxy.p99Ms < server.p99Ms },
    proxyStats: finalProxyStats,
    originStatsDuringProxyPhase: originStats,
  };
  writeFileSync('bench-out/cache-proxy.json', `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/cache-proxy: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
