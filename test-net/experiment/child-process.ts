/**
 * Small helpers for the experiment's child processes (origin server, peers,
 * daemon), all started through the test bed inside its namespaces: line-wise
 * output with a bounded tail kept for error messages, waiting for a line or
 * for the exit with a time limit, and an abortable sleep.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { ExperimentAbortedError, ExperimentProcessError } from './errors.js';

/** Output lines kept per child for error messages; the full output goes to its log file. */
export const TAIL_LINES = 40;

export interface WatchedChild {
  readonly name: string;
  readonly child: ChildProcess;
  /** Last TAIL_LINES lines of stdout and stderr. */
  tail(): string;
  /** Resolves with the first stdout line matching `pattern`; rejects on exit or timeout. */
  waitForLine(pattern: RegExp, timeoutMs: number, signal?: AbortSignal): Promise<string>;
  /** Resolves with the exit code (128 + n for signal n, shell style) once the child has exited. */
  exited(): Promise<number>;
}

const SIGNALS: Readonly<Record<string, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Splits the child's output into lines, hands stdout lines to `onLine`, copies both streams to `logPath`. */
export function watchChild(name: string, child: ChildProcess, logPath: string, onLine?: (line: string, at: number) => void): WatchedChild {
  const log = createWriteStream(logPath, { flags: 'w' });
  log.on('error', () => undefined); // a log that cannot be written never stops the run
  const tailLines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  const keep = (line: string): void => {
    tailLines.push(line);
    if (tailLines.length > TAIL_LINES) tailLines.shift();
  };
  const splitter = (stream: NodeJS.ReadableStream | null, isStdout: boolean): void => {
    let buf = '';
    stream?.on('data', (chunk: Buffer) => {
      const at = Date.now();
      log.write(chunk);
      buf += chunk.toString('utf8');
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        keep(line);
        if (isStdout) {
          onLine?.(line, at);
          for (const l of listeners) l(line);
        }
      }
    });
  };
  splitter(child.stdout, true);
  splitter(child.stderr, false);
  const exit = new Promise<number>((resolve) => {
    const done = (code: number | null, sig: NodeJS.Signals | null): void => {
      log.end();
      resolve(code ?? 128 + (sig === null ? 0 : (SIGNALS[sig] ?? 0)));
    };
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode, child.signalCode);
    else child.once('exit', done);
    child.once('error', () => done(127, null));
  });
  let exitedCode: number | null = null;
  void exit.then((c) => (exitedCode = c));

  return {
    name,
    child,
    tail: () => tailLines.join('\n'),
    exited: () => exit,
    waitForLine(pattern, timeoutMs, signal) {
      return new Promise<string>((resolve, reject) => {
        const finish = (err: Error | null, line?: string): void => {
          clearTimeout(timer);
          listeners.delete(onLine2);
          signal?.removeEventListener('abort', onAbort);
          if (err !== null) reject(err);
          else resolve(line ?? '');
        };
        const onLine2 = (line: string): void => {
          if (pattern.test(line)) finish(null, line);
        };
        const onAbort = (): void => finish(new ExperimentAbortedError(`while waiting for ${name}`));
        const timer = setTimeout(() => finish(new ExperimentProcessError(name, `no line matching ${String(pattern)} within ${timeoutMs} ms:\n${tailLines.join('\n')}`)), timeoutMs);
        listeners.add(onLine2);
        signal?.addEventListener('abort', onAbort, { once: true });
        const seen = tailLines.find((l) => pattern.test(l));
        if (seen !== undefined) finish(null, seen);
        void exit.then((code) => finish(new ExperimentProcessError(name, `exited (${code}) before printing ${String(pattern)}:\n${tailLines.join('\n')}`)));
        if (exitedCode !== null) finish(new ExperimentProcessError(name, `had already exited (${exitedCode})`));
      });
    },
  };
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL; resolves with the exit code. */
export async function stopChild(w: WatchedChild, graceMs: number): Promise<number> {
  const c = w.child;
  if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }, graceMs);
  try {
    return await w.exited();
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`, or rejects with ExperimentAbortedError when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new ExperimentAbortedError('interrupted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new ExperimentAbortedError('interrupted'));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits for a promise with a time limit and an abort signal. */
export async function within<T>(p: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ExperimentProcessError(what, `did not finish within ${ms} ms`)), ms);
    onAbort = () => reject(new ExperimentAbortedError(`while waiting for ${what}`));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}
