/**
 * Analyzer benchmark (issue 3): packets per second through the whole passive
 * pipeline from a file (pcap → decode → TCP reassembly → OpenNap analyzer →
 * SQLite, i.e. `replayCapture`, as `active-router replay` runs it), against
 * baselines measured in the same run (the pcap reader alone, reader + packet
 * decode, reader + pipeline without the database), and the peak RSS while
 * 100,000 flows are open at once. Every measurement runs in a fresh child
 * process pinned to one core (taskset), so JIT state and heap of one never
 * colour another. The one-core stages run in `--rounds` rounds (default 3)
 * and each is reported as its median run. Targets: ≥ 300,000 packets/s,
 * peak RSS < 300 MB. Plain script, not a test: numbers are reported, never asserted.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/analyzer.js [--packets N] [--flows N] [--seed S] [--out DIR] [--regen] [--rounds N]
 *
 * Captures are generated once into `bench-out/` (bench/generate-opennap-capture.ts)
 * and reused while their parameters match; results go to `bench-out/analyzer.json`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Counters } from '../analyzers/counters.js';
import { decodeFrameBytes } from '../analyzers/packet/decode.js';
import { readPcapFileBytes } from '../daemon/capture/pcap-file.js';
import { replayCapture } from '../daemon/cli/replay-command.js';
import { buildAnalyzerRegistry, pipelineServers } from '../daemon/passive-analysis.js';
import { loadPolicyOrExit } from '../daemon/cli/policy-loading.js';
import { createPipeline } from '../analyzers/flows/pipeline.js';
import { DEFAULT_CONCURRENT_FLOWS, DEFAULT_PACKETS, writeOpenNapCapture } from './generate-opennap-capture.js';
import type { GeneratorOptions, GeneratorSummary } from './generate-opennap-capture.js';
import { medianRun, positiveInt, readOptions } from './bench-args.js';
import { applyV8Tuning } from '../daemon/v8-tuning.js';

/** Targets of issue 3. */
export const TARGET_PACKETS_PER_S = 300_000;
export const TARGET_PEAK_RSS_MB = 300;
/** A measurement child that runs longer than this is killed: something is wrong, not slow. */
export const CHILD_TIMEOUT_MS = 15 * 60_000;

const HERE = dirname(fileURLToPath(import.meta.url));
/** Repository root: this file runs as dist/bench/analyzer.js. */
const ROOT = resolve(HERE, '..', '..');
const POLICY = join(ROOT, 'policies/examples/default.yaml');

/** `full-thread`: `full` with the state writer on its worker thread (the daemon's default), on two cores. */
type Stage = 'read' | 'decode' | 'pipeline' | 'full' | 'full-thread';

interface StageResult {
  stage: Stage;
  file: string;
  frames: number;
  elapsedMs: number;
  packetsPerS: number;
  maxRssMB: number;
  /**
   * Full stages: packets/s over the whole `replay` call, i.e. also loading the policy, opening the
   * file and reading the per-server summary back after the last row is committed (packetsPerS
   * counts first frame read → last row committed), and the summary's own time.
   */
  packetsPerSWithReport?: number;
  summaryMs?: number;
  /** Per-server totals and counters (full stage): proof the work was done. */
  queries?: number;
  answered?: number;
  servers?: number;
  counters?: Record<string, number>;
  openFlowsAtEnd?: number;
}

interface Args {
  packets: number;
  flows: number;
  seed: number;
  out: string;
  regen: boolean;
  rounds: number;
}

/**
 * Rounds of the one-core stages (read, decode, pipeline, full, in turn): how fast this VM runs moves
 * a single run by ±15-30 % within minutes, so each stage is reported as the median of its rounds,
 * with the slowest and fastest, and the ratios are of medians.
 */
export const DEFAULT_ROUNDS = 3;

function parseArgs(argv: readonly string[]): Args {
  const o = readOptions(argv, { packets: 'string', flows: 'string', seed: 'string', out: 'string', regen: 'boolean', rounds: 'string' });
  return {
    packets: positiveInt('packets', o.packets, DEFAULT_PACKETS),
    flows: positiveInt('flows', o.flows, DEFAULT_CONCURRENT_FLOWS),
    seed: positiveInt('seed', o.seed, 1),
    out: typeof o.out === 'string' ? resolve(o.out) : join(ROOT, 'bench-out'),
    regen: o.regen === true,
    rounds: positiveInt('rounds', o.rounds, DEFAULT_ROUNDS),
  };
}

// ---------------------------------------------------------------- child: one stage, one file

async function runStage(stage: Stage, file: string): Promise<StageResult> {
  const started = performance.now();
  let frames = 0;
  const base = (): Omit<StageResult, 'frames' | 'elapsedMs' | 'packetsPerS'> => ({ stage, file, maxRssMB: process.resourceUsage().maxRSS / 1024 });
  const done = (extra: Partial<StageResult> = {}): StageResult => {
    const elapsedMs = performance.now() - started;
    return { ...base(), frames, elapsedMs, packetsPerS: (frames * 1000) / elapsedMs, ...extra };
  };
  if (stage === 'read') {
    let bytes = 0;
    await readPcapFileBytes(file, (_l, _bytes, start, end) => {
      frames++;
      bytes += end - start;
    });
    if (bytes === 0 && frames > 0) throw new Error('reader delivered empty frames');
    return done();
  }
  if (stage === 'decode') {
    const counters = new Counters();
    let tcp = 0;
    await readPcapFileBytes(file, (linkType, bytes, start, end, ts) => {
      frames++;
      if (decodeFrameBytes(linkType, bytes, start, end, ts, counters) !== null) tcp++;
    });
    if (tcp === 0) throw new Error('decode stage decoded nothing');
    return done();
  }
  if (stage === 'pipeline') {
    // The daemon's analysis (same registry, server ports and probing as PassiveAnalysis) with events
    // counted instead of written: the difference to `full` is the state writer and SQLite.
    const policy = await loadPolicyOrExit(POLICY);
    const registry = buildAnalyzerRegistry(policy);
    let events = 0;
    // Results are not copied for a warm-start store, as in `replay` (PassiveAnalysis with keepAnswers: false).
    const pipeline = createPipeline({
      registry,
      servers: pipelineServers(policy, registry),
      probe: policy.learn,
      onEvent: () => void events++,
      wantsResults: () => false,
    });
    let expireAt = 0;
    let lastTs = 0;
    await readPcapFileBytes(file, (linkType, bytes, start, end, ts) => {
      frames++;
      pipeline.handleFrameBytes(linkType, bytes, start, end, ts);
      lastTs = ts;
      if (ts >= expireAt) {
        pipeline.expire(ts);
        expireAt = ts + 1000;
      }
    });
    const open = pipeline.stats().flows;
    pipeline.closeAll(lastTs);
    if (events === 0) throw new Error('pipeline stage produced no events');
    return done({ openFlowsAtEnd: open });
  }
  const dir = mkdtempSync(join(tmpdir(), 'ar-bench-'));
  try {
    const report = await replayCapture(file, POLICY, join(dir, 'state.db'), { writerThread: stage === 'full-thread' });
    frames = report.frames;
    const wallMs = performance.now() - started;
    return {
      ...base(),
      frames,
      elapsedMs: report.elapsedMs,
      packetsPerS: (frames * 1000) / report.elapsedMs,
      packetsPerSWithReport: (frames * 1000) / wallMs,
      summaryMs: report.summaryMs,
      queries: report.servers.reduce((n, s) => n + s.queries, 0),
      answered: report.servers.reduce((n, s) => n + s.answered, 0),
      servers: report.servers.length,
      counters: report.counters,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- parent

/** Generates the capture unless a file with the same parameters is there already. */
function ensureCapture(out: string, name: string, options: Partial<GeneratorOptions>, regen: boolean): { file: string; summary: GeneratorSummary } {
  const file = join(out, `${name}.pcap`);
  const meta = join(out, `${name}.json`);
  if (!regen && existsSync(file) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { options: Partial<GeneratorOptions>; summary: GeneratorSummary };
    if (JSON.stringify(m.options) === JSON.stringify(options)) return { file, summary: m.summary };
  }
  const t0 = performance.now();
  process.stdout.write(`generating ${file} ...\n`);
  const summary = writeOpenNapCapture(file, options);
  process.stdout.write(`  ${summary.packets} packets, ${summary.sessions} sessions, ${summary.searches} searches in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  writeFileSync(meta, `${JSON.stringify({ options, summary }, null, 2)}\n`);
  return { file, summary };
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Runs one stage in a fresh node process (pinned to CPU 0 when taskset exists) and returns its result. */
function child(stage: Stage, file: string, pin: boolean): StageResult {
  const self = fileURLToPath(import.meta.url);
  const cmd = pin ? 'taskset' : process.execPath;
  const args = pin ? ['-c', '0', process.execPath, self, '--child', stage, file] : [self, '--child', stage, file];
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`stage ${stage} on ${file} failed (${String(r.status ?? r.signal)}):\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as StageResult;
}

/** The full stages' second figure: the whole replay call, with the summary read back at its end. */
function withReport(r: StageResult): string {
  if (r.packetsPerSWithReport === undefined || r.summaryMs === undefined) return '';
  return `; with the summary read back (${r.summaryMs.toFixed(0)} ms): ${fmt(r.packetsPerSWithReport)} packets/s`;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    // Every stage runs with the V8 settings of an `active-router` process (daemon/v8-tuning.ts), as `replay` does.
    applyV8Tuning();
    const [, stage, file] = argv;
    if (stage !== 'read' && stage !== 'decode' && stage !== 'pipeline' && stage !== 'full' && stage !== 'full-thread') throw new Error(`unknown stage ${String(stage)}`);
    if (file === undefined) throw new Error('--child needs a file');
    process.stdout.write(`${JSON.stringify(await runStage(stage, file))}\n`);
    return;
  }
  const args = parseArgs(argv);
  mkdirSync(args.out, { recursive: true });
  const sessionsOpts: Partial<GeneratorOptions> = { mode: 'sessions', seed: args.seed, packets: args.packets };
  const concurrentOpts: Partial<GeneratorOptions> = { mode: 'concurrent', seed: args.seed, flows: args.flows };
  const sessions = ensureCapture(args.out, `opennap-sessions-${args.packets}-s${args.seed}`, sessionsOpts, args.regen);
  const concurrent = ensureCapture(args.out, `opennap-concurrent-${args.flows}-s${args.seed}`, concurrentOpts, args.regen);
  const pin = hasTaskset();

  const oneCoreStages = ['read', 'decode', 'pipeline', 'full'] as const;
  const runs = new Map<Stage, StageResult[]>(oneCoreStages.map((stage) => [stage, []]));
  for (let round = 1; round <= args.rounds; round++) {
    process.stdout.write(`  round ${round} of ${args.rounds}:`);
    for (const stage of oneCoreStages) {
      const r = child(stage, sessions.file, pin);
      runs.get(stage)!.push(r);
      process.stdout.write(` ${stage} ${fmt(r.packetsPerS)}`);
    }
    process.stdout.write('\n');
  }
  const stages: StageResult[] = [];
  for (const stage of oneCoreStages) {
    const all = runs.get(stage)!;
    const r = medianRun(all);
    stages.push(r);
    const rates = all.map((x) => x.packetsPerS).sort((a, b) => a - b);
    const spread = all.length > 1 ? `median of ${all.length}, ${fmt(rates[0]!)}-${fmt(rates[rates.length - 1]!)}; ` : '';
    process.stdout.write(
      `  ${stage.padEnd(8)} ${fmt(r.packetsPerS).padStart(11)} packets/s  (${spread}${fmt(r.frames)} frames in ${(r.elapsedMs / 1000).toFixed(2)} s, max RSS ${r.maxRssMB.toFixed(0)} MB)${withReport(r)}\n`,
    );
  }
  // The writer thread needs a second core to pay: this stage runs unpinned.
  const fullThread = child('full-thread', sessions.file, false);
  stages.push(fullThread);
  process.stdout.write(`  full, writer thread, 2 cores ${fmt(fullThread.packetsPerS).padStart(11)} packets/s  (max RSS ${fullThread.maxRssMB.toFixed(0)} MB)${withReport(fullThread)}\n`);
  const full = stages.find((s) => s.stage === 'full')!;
  const memory = child('full', concurrent.file, pin);
  const memoryPipeline = child('pipeline', concurrent.file, pin);
  process.stdout.write(`  memory   ${concurrent.summary.sessions} concurrent flows: peak RSS ${memory.maxRssMB.toFixed(0)} MB full pipeline, ${memoryPipeline.maxRssMB.toFixed(0)} MB without SQLite (open at end: ${String(memoryPipeline.openFlowsAtEnd)})\n`);

  const rate = (s: Stage): number => stages.find((x) => x.stage === s)?.packetsPerS ?? Number.NaN;
  const fullRuns = [...runs.get('full')!, fullThread];
  const checks = {
    queriesMatchGenerator: fullRuns.every((r) => r.queries === sessions.summary.searches),
    answeredMatchGenerator: fullRuns.every((r) => r.answered === sessions.summary.answered),
    concurrentFlowsOpen: memoryPipeline.openFlowsAtEnd === concurrent.summary.sessions,
    meetsThroughputTarget: full.packetsPerS >= TARGET_PACKETS_PER_S,
    meetsMemoryTarget: memory.maxRssMB < TARGET_PEAK_RSS_MB,
  };
  const result = {
    when: new Date().toISOString(),
    node: process.version,
    pinnedToOneCore: pin,
    rounds: args.rounds,
    command: `node dist/bench/analyzer.js ${argv.join(' ')}`.trim(),
    captures: { sessions: { file: sessions.file, ...sessions.summary }, concurrent: { file: concurrent.file, ...concurrent.summary } },
    throughput: Object.fromEntries(
      stages.map((s) => [
        s.stage,
        {
          packetsPerS: s.packetsPerS,
          elapsedMs: s.elapsedMs,
          frames: s.frames,
          maxRssMB: s.maxRssMB,
          packetsPerSWithReport: s.packetsPerSWithReport,
          summaryMs: s.summaryMs,
          runsPacketsPerS: (runs.get(s.stage) ?? [s]).map((x) => x.packetsPerS),
        },
      ]),
    ),
    ratios: {
      fullVsRead: rate('full') / rate('read'),
      fullVsDecode: rate('full') / rate('decode'),
      fullVsPipeline: rate('full') / rate('pipeline'),
      fullThreadVsPipeline: rate('full-thread') / rate('pipeline'),
      pipelineVsDecode: rate('pipeline') / rate('decode'),
    },
    memory: { flows: concurrent.summary.sessions, peakRssMB: memory.maxRssMB, peakRssWithoutSqliteMB: memoryPipeline.maxRssMB, openFlowsAtEnd: memoryPipeline.openFlowsAtEnd },
    fullCounters: full.counters,
    targets: { packetsPerS: TARGET_PACKETS_PER_S, peakRssMB: TARGET_PEAK_RSS_MB },
    checks,
  };
  writeFileSync(join(args.out, 'analyzer.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `  ratios: full/read ${result.ratios.fullVsRead.toFixed(3)}, full/decode ${result.ratios.fullVsDecode.toFixed(3)}, full/pipeline ${result.ratios.fullVsPipeline.toFixed(3)}\n` +
      `  checks: ${Object.entries(checks).map(([k, v]) => `${k}=${String(v)}`).join(' ')}\n` +
      `  wrote ${join(args.out, 'analyzer.json')}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
