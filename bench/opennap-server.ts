/**
 * Benchmark of the OpenNap directory server (opennap/server.ts): searches per
 * second and latency (search sent → first 201 or the 202) on loopback, with
 * the paper's catalogue (seed 001 §5.3) shared by the load clients.
 *
 *   node dist/bench/opennap-server.js [--duration S] [--warmup S]
 *
 * The server runs in a forked child process (this same file with `--child`)
 * so the load generator does not share its core. The load generator is a
 * lean raw-socket loader, not OpenNapClient: it only walks frame headers and
 * never parses 201 lines (bench/search-load.ts, shared with the cache proxy
 * bench), and its own CPU per search is printed beside the server's. Prints a table and writes
 * bench-out/opennap-server.json.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { assignFilesToPeers, keywordPopularity, paperCatalogue } from '../opennap/catalogue.js';
import { encodeFrame, FrameDecoder } from '../opennap/codec.js';
import { MessageType } from '../opennap/message-types.js';
import { buildLogin, buildShareFile } from '../opennap/messages.js';
import { Random } from '../opennap/random.js';
import { serializeSearch } from '../opennap/search-expression.js';
import { OpenNapServer } from '../opennap/server.js';
import type { ServerStatsSnapshot } from '../opennap/server-stats.js';
import { ZipfSampler } from '../opennap/zipf.js';
import { applyV8Tuning } from '../daemon/v8-tuning.js';
import { connectSearchLoad, cpuMicros, machineBusyMicros, newTally, summarize } from './search-load.js';
import type { LoadSummary, SearchLoadConnection } from './search-load.js';

interface Scenario {
  name: string;
  clients: number;
  outstanding: number;
  /** Target from the design brief, searches/s. */
  targetPerSecond: number;
}

const SCENARIOS: readonly Scenario[] = [
  { name: '13 clients x 16 outstanding', clients: 13, outstanding: 16, targetPerSecond: 30_000 },
  { name: '200 clients x 4 outstanding', clients: 200, outstanding: 4, targetPerSecond: 15_000 },
];

/** Latency samples kept per scenario (64 MB); beyond it a reservoir keeps a uniform sample (counted), so memory stays bounded. */
const MAX_SAMPLES = 8_000_000;

/** Target p99 of the first response, ms. */
const TARGET_P99_MS = 10;

// ── child: the server ──────────────────────────────────────────────────────

type ChildMessage =
  | { kind: 'listening'; port: number }
  | { kind: 'stats'; stats: ServerStatsSnapshot; cpuMs: number; searchesSinceMark: number };

async function runChild(): Promise<void> {
  const server = new OpenNapServer({ host: '127.0.0.1', port: 0, name: 'bench' });
  await server.start();
  let cpuMark = process.cpuUsage();
  let searchesMark = 0;
  process.send?.({ kind: 'listening', port: server.address().port } satisfies ChildMessage);
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'mark') {
      cpuMark = process.cpuUsage();
      searchesMark = server.stats().searches;
    } else if (m.kind === 'stats') {
      const cpu = process.cpuUsage(cpuMark);
      const stats = server.stats();
      const searchesSinceMark = stats.searches - searchesMark;
      process.send?.({ kind: 'stats', stats, cpuMs: (cpu.user + cpu.system) / 1000, searchesSinceMark } satisfies ChildMessage);
    } else if (m.kind === 'stop') {
      void server.stop().then(() => process.exit(0));
    }
  });
}

/**
 * The baseline measured in the same run: a server that does no directory work
 * at all. It acknowledges logins and answers every search with the same
 * pre-encoded 11 results + 202 (about the paper catalogue's mean), one write
 * each, over the same sockets and loader: the cost floor of the protocol on
 * this machine. Ours / baseline says how close the real server comes to it.
 */
async function runBaselineChild(): Promise<void> {
  const result = encodeFrame(MessageType.SearchResult, '"baseline result file name.mp3" 0123456789abcdef0123456789abcdef 3000000 128 44100 180 bench 16777343 3');
  const answer = Buffer.concat([...Array.from({ length: 11 }, () => result), encodeFrame(MessageType.SearchEnd)]);
  const ack = encodeFrame(MessageType.LoginAck, 'anon@baseline');
  let searches = 0;
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      socket.cork();
      for (let r = decoder.next(); r.kind === 'ok'; r = decoder.next()) {
        if (r.frame.type === MessageType.Search) {
          searches++;
          socket.write(answer);
        } else if (r.frame.type === MessageType.Login || r.frame.type === MessageType.NewUserLogin) {
          socket.write(ack);
        }
      }
      socket.uncork();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let cpuMark = process.cpuUsage();
  let searchesMark = 0;
  process.send?.({ kind: 'listening', port: (server.address() as net.AddressInfo).port } satisfies ChildMessage);
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'mark') {
      cpuMark = process.cpuUsage();
      searchesMark = searches;
    } else if (m.kind === 'stats') {
      const cpu = process.cpuUsage(cpuMark);
      const stats = { searches, errors: {} } as unknown as ServerStatsSnapshot;
      process.send?.({ kind: 'stats', stats, cpuMs: (cpu.user + cpu.system) / 1000, searchesSinceMark: searches - searchesMark } satisfies ChildMessage);
    } else if (m.kind === 'stop') {
      server.close();
      process.exit(0);
    }
  });
}

function startChild(mode: '--child' | '--child-baseline'): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(import.meta.url), [mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
    child.once('message', (m: ChildMessage) => {
      if (m.kind === 'listening') resolve({ child, port: m.port });
    });
  });
}

function ask(
  child: ChildProcess,
  kind: 'mark' | 'stats',
): Promise<{ stats: ServerStatsSnapshot; cpuMs: number; searchesSinceMark: number } | undefined> {
  child.send({ kind });
  if (kind === 'mark') return Promise.resolve(undefined);
  return new Promise((resolve) => {
    child.once('message', (m: ChildMessage) => {
      if (m.kind === 'stats') resolve({ stats: m.stats, cpuMs: m.cpuMs, searchesSinceMark: m.searchesSinceMark });
    });
  });
}

// ── parent: the load generator (bench/search-load.ts) ─────────────────────

interface ScenarioResult extends LoadSummary {
  scenario: string;
  clients: number;
  outstanding: number;
  durationS: number;
  serverCpuPercent: number;
  /** CPU of the server process per search answered, µs. */
  serverCpuMicrosPerSearch: number;
  /** CPU of this loader process over the window: near 100 means the loader, not the server, limits the rate. */
  loaderCpuPercent: number;
  /** Searches the server counted over the window (cross-check of the loader's count). */
  serverSearches: number;
  /** CPU other processes of the machine used over the window, in cores (of 2): others benchmark here too. */
  otherCores: number;
  targetPerSecond: number;
  targetP99Ms: number;
  serverErrors: Record<string, number>;
}

async function runScenario(sc: Scenario, durationS: number, warmupS: number, baseline = false): Promise<ScenarioResult> {
  const { child, port } = await startChild(baseline ? '--child-baseline' : '--child');
  const catalogue = paperCatalogue(1);
  const searches = catalogue.keywords.map((k) => encodeFrame(MessageType.Search, serializeSearch({ include: [k.word], exclude: [], maxResults: 100 })));
  const popularity = keywordPopularity(catalogue);
  const shares = assignFilesToPeers(catalogue.files, sc.clients, new Random(11));
  const tally = newTally(MAX_SAMPLES);
  const conns: SearchLoadConnection[] = [];
  try {
    for (let i = 0; i < sc.clients; i++) {
      const sampler = new ZipfSampler(popularity, new Random(100 + i));
      const conn = await connectSearchLoad(port, searches, () => sampler.sample(), tally);
      const login = encodeFrame(MessageType.Login, buildLogin({ nick: `bench${i}`, password: 'pw', port: 6699, clientInfo: 'bench', linkType: 7 }));
      const shareFrames = (shares[i] ?? []).map((f) =>
        encodeFrame(MessageType.ShareFile, buildShareFile({ filename: f.name, md5: f.md5, size: f.size, bitrate: f.bitrate, freq: f.freq, duration: f.duration })),
      );
      await conn.login(Buffer.concat([login, ...shareFrames]));
      conns.push(conn);
    }
    for (const c of conns) c.start(sc.outstanding);
    await new Promise((r) => setTimeout(r, warmupS * 1000));
    await ask(child, 'mark');
    tally.measuring = true;
    const loaderCpu = process.cpuUsage();
    const machine0 = machineBusyMicros();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, durationS * 1000));
    tally.measuring = false;
    const elapsedMs = performance.now() - t0;
    const loaderMicros = cpuMicros(loaderCpu);
    const machineMicros = machineBusyMicros() - machine0;
    const server = await ask(child, 'stats');
    for (const c of conns) c.stop();
    const load = summarize(tally, elapsedMs, loaderMicros);
    return {
      scenario: baseline ? `${sc.name} (baseline)` : sc.name,
      clients: sc.clients,
      outstanding: sc.outstanding,
      durationS: Number((elapsedMs / 1000).toFixed(2)),
      ...load,
      serverCpuPercent: server === undefined ? Number.NaN : Math.round((server.cpuMs / elapsedMs) * 100),
      serverCpuMicrosPerSearch:
        server === undefined || load.searches === 0 ? Number.NaN : Number(((server.cpuMs * 1000) / load.searches).toFixed(2)),
      loaderCpuPercent: Math.round(load.loaderCores * 100),
      serverSearches: server?.searchesSinceMark ?? 0,
      otherCores: Number(Math.max(0, (machineMicros - loaderMicros - (server?.cpuMs ?? 0) * 1000) / 1000 / elapsedMs).toFixed(2)),
      targetPerSecond: sc.targetPerSecond,
      targetP99Ms: TARGET_P99_MS,
      serverErrors: server?.stats.errors ?? {},
    };
  } finally {
    for (const c of conns) c.close();
    child.send({ kind: 'stop' });
    await new Promise((r) => child.once('exit', r));
  }
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!(v > 0)) {
    process.stderr.write(`opennap-server bench: ${name} needs a positive number\n`);
    process.exit(2);
  }
  return v;
}

function printTable(rows: readonly ScenarioResult[]): void {
  const header = ['scenario', 'searches/s', 'target', 'p50 ms', 'p99 ms', 'results/search', 'server cpu %', 'server µs/search', 'loader cpu %', 'loader µs/search', 'others cores'];
  const body = rows.map((r) => [
    r.scenario,
    String(r.searchesPerSecond),
    `>= ${r.targetPerSecond}`,
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    r.resultsPerSearch.toFixed(2),
    String(r.serverCpuPercent),
    r.serverCpuMicrosPerSearch.toFixed(2),
    String(r.loaderCpuPercent),
    r.loaderCpuMicrosPerSearch.toFixed(2),
    r.otherCores.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  for (const line of [header, ...body]) process.stdout.write(`${line.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`);
}

async function main(): Promise<void> {
  // Both servers run with the V8 settings of an `active-router` process (daemon/v8-tuning.ts).
  if (process.argv.includes('--child') || process.argv.includes('--child-baseline')) applyV8Tuning();
  if (process.argv.includes('--child')) {
    await runChild();
    return;
  }
  if (process.argv.includes('--child-baseline')) {
    await runBaselineChild();
    return;
  }
  const durationS = argValue('--duration', 10);
  const warmupS = argValue('--warmup', 1);
  const rows: ScenarioResult[] = [];
  const ratios: { scenario: string; searchesPerSecondRatio: number }[] = [];
  for (const sc of SCENARIOS) {
    const base = await runScenario(sc, durationS, warmupS, true);
    const ours = await runScenario(sc, durationS, warmupS);
    rows.push(base, ours);
    ratios.push({ scenario: sc.name, searchesPerSecondRatio: Number((ours.searchesPerSecond / base.searchesPerSecond).toFixed(3)) });
  }
  printTable(rows);
  for (const r of ratios) process.stdout.write(`${r.scenario}: server / baseline = ${r.searchesPerSecondRatio.toFixed(2)}× searches/s\n`);
  mkdirSync('bench-out', { recursive: true });
  writeFileSync('bench-out/opennap-server.json', `${JSON.stringify({ bench: 'opennap-server', at: new Date().toISOString(), rows, ratios }, null, 2)}\n`);
  process.stdout.write('wrote bench-out/opennap-server.json\n');
}

await main();
