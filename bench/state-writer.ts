/**
 * Micro-benchmark of the state writer (daemon/state/state-writer.ts): rows per
 * second written through batched transactions (the daemon's setting) versus
 * one transaction per row, on a real SQLite file in WAL mode with
 * synchronous=NORMAL, and batched on the writer thread (wall time of the
 * enqueuing thread, flush included, so the thread's work is all counted).
 * Plain script, not a test: performance is never asserted.
 *
 *   npx vite-node bench/state-writer.ts [rows]
 *   (or after `npm run build`: node dist/bench/state-writer.js [rows])
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AnalyzerEvent } from '../analyzers/events.js';
import { DEFAULT_BATCH_ROWS } from '../daemon/state/settings.js';
import { openState } from '../daemon/state/index.js';

/** Rows per run by default: enough for a stable rate, small enough to finish in seconds one row per commit. */
const DEFAULT_ROWS = 20_000;

/** Half queries, half first responses to them, over 50 clients of one server: the daemon's common mix. */
function workload(rows: number): AnalyzerEvent[] {
  const server = { ip: '10.0.0.1', port: 8888 };
  const events: AnalyzerEvent[] = [];
  for (let i = 0; events.length < rows; i++) {
    const client = { ip: `10.0.1.${i % 50}`, port: 40_000 + (i % 50) };
    const seq = Math.floor(i / 50);
    const ts = 1_700_000_000_000 + i * 2;
    events.push({ kind: 'query', protocol: 'opennap', server, ts, client, seq, keywords: ['blue', 'moon'], maxResults: 50 });
    if (events.length < rows) {
      events.push({ kind: 'first_response', protocol: 'opennap', server, ts: ts + 1, client, seq, queryTs: ts });
    }
  }
  return events;
}

function measure(dir: string, name: string, batchRows: number, events: readonly AnalyzerEvent[], thread = false): number {
  // writeWhenFull as replay does: batches are written (or handed to the thread) as they fill.
  const state = openState(join(dir, `${name}.db`), { settings: { batchRows, queueCap: Math.max(events.length, batchRows) }, writeWhenFull: true, thread });
  try {
    const start = performance.now();
    for (const e of events) state.writer.enqueue(e);
    state.writer.flush();
    const seconds = (performance.now() - start) / 1000;
    const c = state.writer.counters();
    // A query's first response folded into its insert (same batch) is written, as part of that row.
    const written = (c['state.rows_written'] ?? 0) + (c['state.rows_folded'] ?? 0);
    if (written !== events.length) throw new Error(`${name}: wrote ${written} of ${events.length} events`);
    return events.length / seconds;
  } finally {
    state.close();
  }
}

function main(): void {
  const arg = Number(process.argv[2] ?? DEFAULT_ROWS);
  const rows = Number.isInteger(arg) && arg > 0 ? arg : DEFAULT_ROWS;
  const events = workload(rows);
  const dir = mkdtempSync(join(tmpdir(), 'active-router-bench-'));
  try {
    const batched = measure(dir, 'batched', DEFAULT_BATCH_ROWS, events);
    const perRow = measure(dir, 'per-row', 1, events);
    const threaded = measure(dir, 'thread', DEFAULT_BATCH_ROWS, events, true);
    process.stdout.write(
      `state writer, ${rows} rows (queries + first responses), WAL, synchronous=NORMAL\n` +
        `  batched (${DEFAULT_BATCH_ROWS} events/transaction): ${batched.toFixed(0)} events/s\n` +
        `  one transaction per event:          ${perRow.toFixed(0)} events/s\n` +
        `  batched on the writer thread:       ${threaded.toFixed(0)} events/s\n` +
        `  ratio batched / per-row:          ${(batched / perRow).toFixed(1)}x\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
