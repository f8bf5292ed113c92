/**
 * A child process of the active-control test (origin server, peers, daemon,
 * probe), started through the test bed inside a namespace: its output split
 * into timestamped lines (both streams, bounded), waiting for a line with a
 * time limit, and stopping it by signal. The test bed kills whatever is left
 * at teardown; this only adds the waiting.
 */
import type { ChildProcess } from 'node:child_process';
import { ChildProcessFailedError, WaitTimeoutError } from './errors.js';

/**
 * Lines kept per child and stream. The daemon logs a few lines per second
 * and a run lasts minutes: this keeps all of them with a wide margin, and a
 * flood cannot exhaust memory (dropped lines are counted in `dropped`).
 */
export const MAX_LINES_PER_STREAM = 20_000;
/** Lines shown in error messages. */
export const TAIL_LINES = 30;
/** Poll period of the waits: output arrives by events, this only bounds the latency of a check. */
const POLL_MS = 20;

export interface OutputLine {
  readonly at: number;
  readonly text: string;
}

export class WatchedChild {
  readonly stdout: OutputLine[] = [];
  readonly stderr: OutputLine[] = [];
  dropped = 0;
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.split(child.stdout, this.stdout);
    this.split(child.stderr, this.stderr);
    this.exit = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: 127, signal: null }));
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exit;
  }

  tail(): string {
    const all = [...this.stdout.map((l) => ({ ...l, s: 'out' })), ...this.stderr.map((l) => ({ ...l, s: 'err' }))].sort((a, b) => a.at - b.at);
    return all
      .slice(-TAIL_LINES)
      .map((l) => `  [${this.name} ${l.s}] ${l.text}`)
      .join('\n');
  }

  /** The first line (of either stream, from index `since` on) that `match` accepts; rejects on exit or timeout. */
  async waitForLine(stream: 'stdout' | 'stderr', match: (text: string) => boolean, timeoutMs: number, since = 0): Promise<OutputLine> {
    const lines = stream === 'stdout' ? this.stdout : this.stderr;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = lines.slice(since).find((l) => match(l.text));
      if (hit !== undefined) return hit;
      if (!this.running) {
        // Output may still be in the pipe when the exit event fires: one last look after it drains.
        await sleep(POLL_MS);
        const late = lines.slice(since).find((l) => match(l.text));
        if (late !== undefined) return late;
        throw new ChildProcessFailedError(this.name, `exited (${String(this.child.exitCode ?? this.child.signalCode)}) before the expected ${stream} line:\n${this.tail()}`);
      }
      if (Date.now() > deadline) throw new WaitTimeoutError(`${this.name}: expected ${stream} line`, timeoutMs, this.tail());
      await sleep(POLL_MS);
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  async stop(graceMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.running) this.child.kill('SIGKILL');
    }, graceMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }

  private split(stream: NodeJS.ReadableStream | null, into: OutputLine[]): void {
    let buf = '';
    stream?.on('data', (chunk: Buffer) => {
      const at = Date.now();
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (into.length >= MAX_LINES_PER_STREAM) this.dropped++;
        else into.push({ at, text });
      }
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value other than undefined; WaitTimeoutError after `timeoutMs`. */
export async function waitUntil<T>(what: string, timeoutMs: number, check: () => T | undefined | Promise<T | undefined>, pollMs = 100, detail?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new WaitTimeoutError(what, timeoutMs, detail?.() ?? '');
    await sleep(pollMs);
  }
}
