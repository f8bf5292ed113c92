/**
 * The peer workload's search log: one JSON object per line (JSON Lines), one
 * line per search, as the experiment of seed 001 §5.3 needs to draw its
 * figures (results per response, response time as the peer sees it):
 *
 *   {"peer":"peerA0","keywords":["kavomu"],"sentAt":1700000000000,"firstResultAt":1700000000004,"results":3,"endedBy":"end"}
 *
 * Times are ms since the epoch; `firstResultAt` is null when nothing came
 * back. Lines are gathered in memory and written in large chunks through a
 * file stream; what waits to be written is bounded, and lines dropped past
 * the bound are counted.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { WriteStream } from 'node:fs';

export interface SearchLogRecord {
  peer: string;
  keywords: string[];
  sentAt: number;
  firstResultAt: number | null;
  results: number;
  /** How the search ended: its 202, its timeout, or the connection closing under it. */
  endedBy: 'end' | 'timeout' | 'closed';
}

/** Lines are handed to the file stream once this many bytes have gathered (fewer, larger writes). */
export const SEARCH_LOG_CHUNK_BYTES = 64 * 1024;

/** Gathered lines are flushed at least this often, so a crash loses little and `tail -f` works. */
export const SEARCH_LOG_FLUSH_MS = 500;

/**
 * Bytes that may wait for the disk. At 50 bytes/line it is over 300,000
 * searches: only a stalled disk reaches it, and then lines are dropped
 * (counted in `dropped`) rather than memory growing without limit.
 */
export const SEARCH_LOG_MAX_PENDING_BYTES = 16 * 1024 * 1024;

export class SearchLogWriter {
  written = 0;
  dropped = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly stream: WriteStream;
  private closed = false;
  private failure: Error | undefined;

  constructor(path: string) {
    this.stream = createWriteStream(path, { flags: 'w' });
    this.stream.on('error', (err) => {
      this.failure = err;
    });
    this.timer = setInterval(() => this.flush(), SEARCH_LOG_FLUSH_MS).unref();
  }

  write(record: SearchLogRecord): void {
    if (this.closed) return;
    const line = `${JSON.stringify(record)}\n`;
    if (this.pendingBytes + this.stream.writableLength + line.length > SEARCH_LOG_MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
    this.written++;
    if (this.pendingBytes >= SEARCH_LOG_CHUNK_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.stream.write(this.pending.join(''));
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Writes what is gathered and closes the file; rejects if the file could not be written. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.flush();
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
    if (this.failure !== undefined) throw this.failure;
  }
}

export type SearchLogLineResult = { kind: 'ok'; record: SearchLogRecord } | { kind: 'error'; message: string };

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** Parses and checks one line. Pure, never throws. */
export function parseSearchLogLine(line: string): SearchLogLineResult {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { kind: 'error', message: 'not JSON' };
  }
  if (typeof v !== 'object' || v === null) return { kind: 'error', message: 'not an object' };
  const o = v as Record<string, unknown>;
  if (typeof o.peer !== 'string') return { kind: 'error', message: 'peer is not a string' };
  if (!Array.isArray(o.keywords) || !o.keywords.every((k) => typeof k === 'string')) {
    return { kind: 'error', message: 'keywords is not an array of strings' };
  }
  if (!isTime(o.sentAt)) return { kind: 'error', message: 'sentAt is not a time' };
  if (o.firstResultAt !== null && !isTime(o.firstResultAt)) return { kind: 'error', message: 'firstResultAt is not a time or null' };
  if (typeof o.results !== 'number' || !Number.isInteger(o.results) || o.results < 0) {
    return { kind: 'error', message: 'results is not a count' };
  }
  if (o.endedBy !== 'end' && o.endedBy !== 'timeout' && o.endedBy !== 'closed') {
    return { kind: 'error', message: 'endedBy is not end, timeout or closed' };
  }
  return {
    kind: 'ok',
    record: {
      peer: o.peer,
      keywords: o.keywords as string[],
      sentAt: o.sentAt,
      firstResultAt: o.firstResultAt as number | null,
      results: o.results,
      endedBy: o.endedBy,
    },
  };
}

/** Reads a whole log; lines that do not parse are returned with their line number. */
export async function readSearchLog(path: string): Promise<{ records: SearchLogRecord[]; bad: { line: number; message: string }[] }> {
  const text = await readFile(path, 'utf8');
  const records: SearchLogRecord[] = [];
  const bad: { line: number; message: string }[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.length === 0) return;
    const r = parseSearchLogLine(line);
    if (r.kind === 'ok') records.push(r.record);
    else bad.push({ line: i + 1, message: r.message });
  });
  return { records, bad };
}
