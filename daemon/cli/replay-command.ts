/**
 * `active-router replay FILE.pcap [--json] [--policy FILE] [--db FILE]`: runs
 * the whole passive pipeline (pcap file → decode → reassembly → analyzers →
 * SQLite) on a capture and prints one row per server with the counters of
 * drops, evictions and malformed input.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { readPcapFileBytes } from '../capture/pcap-file.js';
import { PassiveAnalysis } from '../passive-analysis.js';
import { openState } from '../state/index.js';
import { loadPolicyOrExit } from './policy-loading.js';
import { formatServerTable, rowOf } from './server-table.js';

/**
 * Rows per transaction in a replay: nobody waits to read a replay's rows, so it writes in
 * transactions twice the daemon's. A commit rewrites the hot index pages once per transaction, so
 * this halves the WAL written per row. Measured (bench/analyzer.ts): 4,000 and 8,000 were no faster
 * within the noise, and took the 100,000-flow capture's peak RSS from 263 MB to 318-323 MB.
 */
export const REPLAY_BATCH_ROWS = 2000;

export interface ReplayReport {
  servers: ReturnType<typeof rowOf>[];
  counters: Record<string, number>;
  frames: number;
  firstTs: number | null;
  lastTs: number | null;
  /** First frame read → last row committed and indexed (what the throughput benchmark divides by). */
  elapsedMs: number;
  /** The per-server summary read back from the database afterwards. */
  summaryMs: number;
}

export interface ReplayOptions {
  /** Write SQLite on a worker thread (daemon/state/thread-sink.ts): faster with a second core free. */
  writerThread?: boolean;
}

/** Replays `file` through the pipeline into the database at `dbPath`; returns the per-server report. */
export async function replayCapture(file: string, policyPath: string | undefined, dbPath: string, options: ReplayOptions = {}): Promise<ReplayReport> {
  const policy = await loadPolicyOrExit(policyPath);
  // No flush timer runs here (the read loop hardly yields): the writer writes each batch as it fills,
  // or the bounded queue would overflow on a long capture, or at its end when every flow closes at once.
  const state = openState(dbPath, {
    queryRateN: policy.metrics.queriesPerSample,
    writeWhenFull: true,
    thread: options.writerThread === true,
    settings: { batchRows: REPLAY_BATCH_ROWS },
    // Nothing reads the file until the capture is in: its query indexes are built once, at the end.
    bulkLoad: true,
  });
  try {
    const analysis = new PassiveAnalysis({ policy, state, feedManager: false });
    let firstTs: number | null = null;
    const started = performance.now();
    let expireAt = 0;
    const result = await readPcapFileBytes(file, (linkType, bytes, start, end, ts, iface) => {
      if (firstTs === null) firstTs = ts;
      analysis.onFrameBytes(linkType, bytes, start, end, ts, iface);
      // Idle flows expire on capture time, as they would live.
      if (ts >= expireAt) {
        analysis.housekeeping(ts);
        expireAt = ts + 1000;
      }
    });
    const lastTs = analysis.lastTs || null;
    analysis.finish(analysis.lastTs);
    state.writer.flush();
    // Inside the timed span: the rows are not ready to read until their indexes are.
    state.endBulkLoad();
    const elapsedMs = performance.now() - started;
    const span = firstTs !== null && lastTs !== null ? lastTs - firstTs + 1 : 1;
    const servers = state.reader.serverSummary(span, (lastTs ?? 0) + 0.5).map(rowOf);
    const summaryMs = performance.now() - started - elapsedMs;
    const counters: Record<string, number> = { ...analysis.allCounters() };
    for (const [k, v] of Object.entries(result.events)) counters[k] = v;
    if (result.stop) counters[`pcap.stopped.${result.stop.event}`] = 1;
    const stats = analysis.pipeline.stats();
    counters['pipeline.frames'] = stats.frames;
    counters['pipeline.packets'] = stats.packets;
    return { servers, counters, frames: result.frames, firstTs, lastTs, elapsedMs, summaryMs };
  } finally {
    state.close();
  }
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('run the passive pipeline on a pcap/pcapng file and print per-server metrics')
    .argument('<file>', 'capture file (pcap or pcapng)')
    .option('--json', 'print one JSON object instead of the table')
    .option('--policy <file>', 'policy file (ports, protocols, learning); default: the built-in default policy')
    .option('--db <file>', 'keep the state database in this file (default: a temporary file, removed)')
    .option('--writer-thread', 'write the state database on a worker thread (faster when a second core is free)')
    .action(async (file: string, opts: { json?: boolean; policy?: string; db?: string; writerThread?: boolean }) => {
      const dir = opts.db ? undefined : mkdtempSync(join(tmpdir(), 'active-router-replay-'));
      try {
        const report = await replayCapture(file, opts.policy, opts.db ?? join(dir!, 'state.db'), { writerThread: opts.writerThread === true });
        if (opts.json) {
          process.stdout.write(JSON.stringify({ servers: report.servers, counters: report.counters, frames: report.frames }) + '\n');
        } else {
          process.stdout.write(`${file}: ${report.frames} frames in ${(report.elapsedMs / 1000).toFixed(2)} s\n`);
          process.stdout.write(formatServerTable(report.servers, report.counters));
        }
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    });
}
