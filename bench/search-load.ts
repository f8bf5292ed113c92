/**
 * The lean search load generator shared by bench/opennap-server.ts and
 * bench/cache-proxy.ts: raw sockets that keep N searches (200, napster.txt)
 * outstanding and time search sent → first 201 or the 202.
 *
 * Why lean: on two cores the loader shares the machine with the target it
 * measures, so every microsecond it spends per search is taken from the
 * target. Search frames are encoded once by the caller; the answer stream is
 * scanned by frame header only (count 201s, end on 202, never a result
 * parsed, never a string made, no Buffer.concat for split frames: a partial
 * header is kept in 4 bytes and a partial body is skipped by count); send
 * times live in a fixed ring per connection and latencies in one
 * preallocated Float64Array, so a search allocates nothing on the receive side.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { HEADER_BYTES } from '../opennap/codec.js';
import { MessageType } from '../opennap/message-types.js';
import { Random } from '../opennap/random.js';
import { percentileSorted } from '../daemon/metrics/percentile.js';

/**
 * Searches one connection may have in flight: the send-time ring's size. The
 * benches keep 4–16 outstanding plus a warm-up burst of a few dozen; 1024
 * leaves room and costs 8 KB per connection. Beyond it a search is not sent
 * and is counted (`refused`), never overwritten.
 */
export const MAX_IN_FLIGHT_PER_CONNECTION = 1024;

/**
 * Latency samples kept per measured window: 8 M × 8 bytes = 64 MB, above
 * 10 s at 500 k searches/s. Beyond it a reservoir keeps a uniform sample of
 * all of them (counted in `overflowed`), so percentiles stay unbiased and memory bounded.
 */
export const DEFAULT_MAX_SAMPLES = 8_000_000;

/** Latencies (ms) of one measured window: preallocated, no allocation per sample. */
export class LatencySamples {
  private readonly values: Float64Array;
  private filled = 0;
  /** Samples offered in all (kept or not). */
  seen = 0;
  private readonly rng = new Random(0x5eed);

  constructor(capacity = DEFAULT_MAX_SAMPLES) {
    this.values = new Float64Array(capacity);
  }

  /** Samples offered beyond the capacity (the reservoir replaced some kept ones instead of growing). */
  get overflowed(): number {
    return this.seen - this.filled;
  }

  record(ms: number): void {
    this.seen++;
    if (this.filled < this.values.length) {
      this.values[this.filled++] = ms;
      return;
    }
    const j = Math.floor(this.rng.next() * this.seen);
    if (j < this.values.length) this.values[j] = ms;
  }

  /** The kept samples sorted ascending (sorts in place: call once, after the window). */
  sorted(): Float64Array {
    return this.values.subarray(0, this.filled).sort();
  }

  reset(): void {
    this.filled = 0;
    this.seen = 0;
  }
}

/** What all connections of one measured run add up. */
export interface LoadTally {
  /** Only while true are answers counted and latencies recorded. */
  measuring: boolean;
  /** Searches whose 202 arrived while measuring. */
  completed: number;
  /** 201s that arrived while measuring. */
  results: number;
  /** Searches not sent because a connection's ring was full. */
  refused: number;
  readonly samples: LatencySamples;
}

export function newTally(capacity = DEFAULT_MAX_SAMPLES): LoadTally {
  return { measuring: false, completed: 0, results: 0, refused: 0, samples: new LatencySamples(capacity) };
}

/**
 * One load client. `pick()` returns the index (into `frames`) of the next
 * search; frames are sent as they are, so they must be complete encoded
 * 200 frames.
 */
export class SearchLoadConnection {
  /** Send times of the searches in flight, oldest at `head`. */
  private readonly sentAt = new Float64Array(MAX_IN_FLIGHT_PER_CONNECTION);
  private head = 0;
  private inFlight = 0;
  /** True once the oldest search in flight has had its first 201 (or its 202). */
  private answered = false;
  /** Bytes of the current frame's data still to skip. */
  private skip = 0;
  /** A frame header split across reads (at most 3 bytes held). */
  private readonly header = new Uint8Array(HEADER_BYTES);
  private headerHeld = 0;
  private running = false;
  private onLoginAck: (() => void) | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly frames: readonly Buffer[],
    private readonly pick: () => number,
    private readonly tally: LoadTally,
  ) {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
  }

  /** Sends `bytes` (a login frame, and shares if any) and resolves on the login ack (3). */
  login(bytes: Buffer): Promise<void> {
    const acked = new Promise<void>((resolve) => {
      this.onLoginAck = resolve;
    });
    this.socket.write(bytes);
    return acked;
  }

  /** Writes bytes that need no answer (e.g. shares after the ack). */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Searches in flight. */
  get pending(): number {
    return this.inFlight;
  }

  /** Starts keeping `outstanding` searches in flight: each answered search is replaced at once. */
  start(outstanding: number): void {
    this.running = true;
    this.send(outstanding - this.inFlight);
  }

  stop(): void {
    this.running = false;
  }

  /** One search by frame index, outside the replace loop (cache warm-up). */
  searchOnce(index: number): void {
    const frame = this.frames[index];
    if (frame === undefined || !this.push(performance.now())) return;
    this.socket.write(frame);
  }

  close(): void {
    this.socket.destroy();
  }

  private push(now: number): boolean {
    if (this.inFlight >= MAX_IN_FLIGHT_PER_CONNECTION) {
      this.tally.refused++;
      return false;
    }
    this.sentAt[(this.head + this.inFlight) % MAX_IN_FLIGHT_PER_CONNECTION] = now;
    this.inFlight++;
    return true;
  }

  /** Sends `n` searches in one write: the frame itself for one, one concatenation for several. */
  private send(n: number): void {
    if (n <= 0) return;
    const now = performance.now();
    if (n === 1) {
      if (this.push(now)) this.socket.write(this.frames[this.pick()]!);
      return;
    }
    const batch: Buffer[] = [];
    let bytes = 0;
    for (let i = 0; i < n && this.push(now); i++) {
      const f = this.frames[this.pick()]!;
      batch.push(f);
      bytes += f.length;
    }
    if (batch.length > 0) this.socket.write(Buffer.concat(batch, bytes));
  }

  /** Scans the `end` bytes just read into `chunk` (the shared receive buffer: nothing is kept). */
  receive(chunk: Buffer, end: number): void {
    const now = performance.now();
    let at = 0;
    let finished = 0;
    while (at < end) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - at);
        this.skip -= n;
        at += n;
        continue;
      }
      let length: number;
      let type: number;
      if (this.headerHeld === 0 && end - at >= HEADER_BYTES) {
        length = chunk[at]! | (chunk[at + 1]! << 8);
        type = chunk[at + 2]! | (chunk[at + 3]! << 8);
        at += HEADER_BYTES;
      } else {
        const h = this.header;
        while (this.headerHeld < HEADER_BYTES && at < end) h[this.headerHeld++] = chunk[at++]!;
        if (this.headerHeld < HEADER_BYTES) break;
        this.headerHeld = 0;
        length = h[0]! | (h[1]! << 8);
        type = h[2]! | (h[3]! << 8);
      }
      this.skip = length;
      if (type === MessageType.SearchResult) {
        this.firstResponse(now);
        if (this.tally.measuring) this.tally.results++;
      } else if (type === MessageType.SearchEnd) {
        this.firstResponse(now);
        if (this.inFlight > 0) {
          this.head = (this.head + 1) % MAX_IN_FLIGHT_PER_CONNECTION;
          this.inFlight--;
          finished++;
          if (this.tally.measuring) this.tally.completed++;
        }
        this.answered = false;
      } else if (type === MessageType.LoginAck && this.onLoginAck !== undefined) {
        const resolve = this.onLoginAck;
        this.onLoginAck = undefined;
        resolve();
      }
    }
    if (this.running && finished > 0) this.send(finished);
  }

  private firstResponse(now: number): void {
    if (this.answered || this.inFlight === 0) return;
    this.answered = true;
    if (this.tally.measuring) this.tally.samples.record(now - this.sentAt[this.head]!);
  }
}

/**
 * One receive buffer for every load connection. With `onread`, Node reads straight into it and calls
 * back instead of allocating a buffer and emitting 'data' per read; each read is scanned before the
 * next one, so one buffer serves all. That machinery was a quarter of the loader's CPU per search at 200
 * connections.
 */
const RECEIVE_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** A load connection to 127.0.0.1:`port` reading through the shared receive buffer. */
export async function connectSearchLoad(
  port: number,
  frames: readonly Buffer[],
  pick: () => number,
  tally: LoadTally,
): Promise<SearchLoadConnection> {
  // The read callback is fixed at connect time, before the connection object exists.
  const target: { conn?: SearchLoadConnection } = {};
  const socket = await connectLoopback(port, (n, buf) => {
    target.conn?.receive(buf, n);
    return true;
  });
  target.conn = new SearchLoadConnection(socket, frames, pick, tally);
  return target.conn;
}

/** A TCP connection to 127.0.0.1:`port` (the benches never leave loopback), reading into RECEIVE_BUFFER. */
function connectLoopback(port: number, onRead: (n: number, buf: Buffer) => boolean): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, onread: { buffer: RECEIVE_BUFFER, callback: onRead } }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** CPU (user + system, µs) this process used since `since`, or since it started. */
export function cpuMicros(since?: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return u.user + u.system;
}

/** Clock ticks per second of /proc/stat (USER_HZ, 100 on Linux for every architecture we run on). */
const USER_HZ = 100;

/**
 * CPU time (µs) every process of the machine has used since boot (the busy
 * fields of /proc/stat's "cpu" line), NaN where unreadable. The benches
 * subtract their own processes to show how much of the two cores something
 * else took during a window: others benchmark on this machine too.
 */
export function machineBusyMicros(): number {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return f.length >= 8 ? (busy * 1_000_000) / USER_HZ : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Figures of one measured window, as both benches report them. */
export interface LoadSummary {
  searches: number;
  searchesPerSecond: number;
  resultsPerSearch: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Latencies beyond the sample capacity (reservoir-sampled, not lost from the percentiles' population). */
  samplesOverflowed: number;
  /** Searches not sent for a full ring (should be 0). */
  refused: number;
  /** CPU of the load generator per completed search, µs. */
  loaderCpuMicrosPerSearch: number;
  /** CPU of the load generator over the window, in cores (1 = one core busy all the time). */
  loaderCores: number;
}

function round(n: number, digits: number): number {
  return Number(n.toFixed(digits));
}

/** Sorts the samples (once) and sums up a window of `elapsedMs` in which the loader used `loaderCpu` µs. */
export function summarize(tally: LoadTally, elapsedMs: number, loaderCpu: number): LoadSummary {
  const sorted = tally.samples.sorted();
  const n = tally.completed;
  return {
    searches: n,
    searchesPerSecond: Math.round((n * 1000) / elapsedMs),
    resultsPerSearch: n === 0 ? 0 : round(tally.results / n, 2),
    p50Ms: round(percentileSorted(sorted, 50) ?? Number.NaN, 3),
    p99Ms: round(percentileSorted(sorted, 99) ?? Number.NaN, 3),
    maxMs: round(sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN, 3),
    samplesOverflowed: tally.samples.overflowed,
    refused: tally.refused,
    loaderCpuMicrosPerSearch: n === 0 ? 0 : round(loaderCpu / n, 2),
    loaderCores: round(loaderCpu / 1000 / elapsedMs, 2),
  };
}
