/**
 * Thin I/O edge of the test bed: running `ip` (batched), running commands
 * inside a named network namespace (`ip netns exec`, iproute2's netns
 * convention of bind mounts under /run/netns), finding the processes inside a
 * namespace and deleting namespaces. Commands always get argument arrays,
 * never a shell line built from strings.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { CommandFailedError } from './errors.js';

/** Where iproute2 keeps named namespaces (`ip netns add` bind-mounts them here). */
export const NETNS_DIR = '/run/netns';
/** Output kept per stream of one command; more is cut (and flagged) so a chatty child cannot exhaust memory. */
export const MAX_COMMAND_OUTPUT_BYTES = 16 * 1024 * 1024;
/** Default time limit for setup commands; a hung `ip` must not hang the test run. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

export interface CommandOptions {
  /** Bytes or text written to the child's stdin, which is then closed. */
  readonly input?: string | Buffer;
  /** Kill the child (SIGKILL) after this long; 0 = no limit. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Called with the child right after it is spawned (the test bed tracks it to kill it at teardown). */
  readonly onSpawn?: (child: ChildProcess) => void;
}

export interface CommandResult {
  /** Exit code, or 128 + signal number when killed by a signal (the shell convention). */
  readonly code: number;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when stdout or stderr exceeded MAX_COMMAND_OUTPUT_BYTES and was cut. */
  readonly truncated: boolean;
  /** True when the command was killed for exceeding `timeoutMs`. */
  readonly timedOut: boolean;
}

const SIGNAL_NUMBERS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

/** Exit status in shell convention: a signal death becomes 128 + signal number. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : (SIGNAL_NUMBERS[signal] ?? 0));
}

/**
 * Runs a command to completion. Resolves with its exit status whatever it is;
 * rejects (CommandFailedError) only when it cannot be started at all.
 */
export function runCommand(command: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    opts.onSpawn?.(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let truncated = false;
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (outLen + chunk.length > MAX_COMMAND_OUTPUT_BYTES) truncated = true;
      else out.push(chunk);
      outLen += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errLen + chunk.length > MAX_COMMAND_OUTPUT_BYTES) truncated = true;
      else err.push(chunk);
      errLen += chunk.length;
    });
    const timer =
      opts.timeoutMs !== undefined && opts.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs)
        : null;
    child.on('error', (e) => {
      if (timer !== null) clearTimeout(timer);
      reject(new CommandFailedError(command, args, null, e.message, e));
    });
    child.on('close', (code, signal) => {
      if (timer !== null) clearTimeout(timer);
      resolve({
        code: exitStatus(code, signal),
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        truncated,
        timedOut,
      });
    });
    // A child that exits without reading stdin gives EPIPE; its exit status tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Like runCommand, but a non-zero exit becomes a CommandFailedError carrying the command's stderr. */
export async function runChecked(command: string, args: readonly string[], opts: CommandOptions = {}): Promise<CommandResult> {
  const result = await runCommand(command, args, { timeoutMs: DEFAULT_COMMAND_TIMEOUT_MS, ...opts });
  if (result.code !== 0) {
    const why = result.timedOut ? `timed out after ${String(opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS)} ms\n${result.stderr}` : result.stderr;
    throw new CommandFailedError(command, args, result.code, why);
  }
  return result;
}

/** Runs `ip [-n NS] -batch -` with one command per line: one process for many changes. */
export async function ipBatch(lines: readonly string[], ns?: string): Promise<void> {
  if (lines.length === 0) return;
  const args = [...(ns === undefined ? [] : ['-n', ns]), '-batch', '-'];
  await runChecked('ip', args, { input: `${lines.join('\n')}\n` });
}

/** Argument vector that runs `command args` inside namespace `ns`. */
export function netnsExecArgs(ns: string, command: string, args: readonly string[]): string[] {
  return ['netns', 'exec', ns, command, ...args];
}

/** Names of all namespaces iproute2 knows (what `ip netns list` shows). */
export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_DIR).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Processes whose network namespace is one of `names`, by namespace name. It
 * compares the inode of /run/netns/NAME with /proc/PID/ns/net, which is what
 * `ip netns pids` does, without spawning one `ip` per namespace.
 */
export function pidsInNamespaces(names: readonly string[]): Map<string, number[]> {
  const byInode = new Map<number, string>();
  for (const name of names) {
    try {
      byInode.set(statSync(`${NETNS_DIR}/${name}`).ino, name);
    } catch {
      // Namespace already gone: nothing can be inside it.
    }
  }
  const found = new Map<string, number[]>();
  if (byInode.size === 0) return found;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let link: string;
    try {
      link = readlinkSync(`/proc/${entry}/ns/net`);
    } catch {
      continue; // exited meanwhile, or a kernel thread
    }
    const m = /^net:\[([0-9]+)\]$/.exec(link);
    const name = m?.[1] === undefined ? undefined : byInode.get(Number(m[1]));
    if (name === undefined) continue;
    const list = found.get(name) ?? [];
    list.push(Number(entry));
    found.set(name, list);
  }
  return found;
}

/** Sends `signal` to each pid; a pid that is already gone is fine. Returns how many were signalled. */
export function signalPids(pids: Iterable<number>, signal: NodeJS.Signals): number {
  let n = 0;
  for (const pid of pids) {
    if (pid === process.pid) continue; // never ourselves, even if someone entered a test namespace
    try {
      process.kill(pid, signal);
      n++;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
  return n;
}

function deleteLines(names: readonly string[]): string[] {
  const existing = new Set(listNetns());
  return names.filter((n) => existing.has(n)).map((n) => `netns del ${n}`);
}

/** Deletes the namespaces that still exist (one `ip -force -batch`); unknown names are skipped. */
export async function deleteNamespaces(names: readonly string[]): Promise<void> {
  const lines = deleteLines(names);
  if (lines.length === 0) return;
  await runChecked('ip', ['-force', '-batch', '-'], { input: `${lines.join('\n')}\n` });
}

/** Synchronous twin of deleteNamespaces, for process 'exit' handlers where nothing async runs. */
export function deleteNamespacesSync(names: readonly string[]): void {
  const lines = deleteLines(names);
  if (lines.length === 0) return;
  try {
    execFileSync('ip', ['-force', '-batch', '-'], {
      input: `${lines.join('\n')}\n`,
      stdio: ['pipe', 'ignore', 'pipe'],
      timeout: DEFAULT_COMMAND_TIMEOUT_MS,
    });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString('utf8') ?? '';
    throw new CommandFailedError('ip', ['-force', '-batch', '-'], (e as { status?: number }).status ?? null, stderr, e);
  }
}
