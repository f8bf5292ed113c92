/**
 * Runs the daemon's external commands (iptables-save, iptables-restore, ip) in
 * a small helper process started with the daemon. Node's `spawn` forks, and a
 * fork copies the page tables of the whole process: with the capture ring and
 * its heap (about 200 MB) the running daemon's event loop stood still 10–30 ms
 * per command, so capture and the cache proxies stopped for that long, several
 * times at every activation. The helper is forked once, while the daemon is
 * still small, and its own forks cost it about a millisecond, off our loop.
 *
 * Requests and answers are JSON lines over the helper's stdin and stdout; it
 * runs each with the same code as `runCommand` (makeCommandRunner's source).
 * When the helper is gone (it crashed, or was closed) commands run directly,
 * slower but the same; `onExit` is told once if it went unasked.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { COMMAND_TIMEOUT_MS, MAX_COMMAND_OUTPUT_BYTES, makeCommandRunner, runCommand } from './run-command.js';
import type { CommandResult, CommandRunner } from './run-command.js';

/** Beyond the command's own timeout, how long to wait for the helper's answer before giving up on it. */
export const HELPER_ANSWER_SLACK_MS = 5_000;
/** How long `close` waits for the helper to finish what it runs before killing it. */
export const HELPER_CLOSE_GRACE_MS = COMMAND_TIMEOUT_MS;

/** The helper's program (CommonJS, for `node -e`): JSON lines in, one JSON line out per request. */
const HELPER_SOURCE = `
process.title = 'active-router: command helper';
const run = (${makeCommandRunner.toString()})(require('node:child_process').spawn, ${COMMAND_TIMEOUT_MS}, ${MAX_COMMAND_OUTPUT_BYTES});
const reply = (answer) => process.stdout.write(JSON.stringify(answer) + '\\n');
// Exit once stdin ended and nothing runs (a tool that failed to start can leave pipes open).
let held = '', running = 0, ended = false;
const done = () => { if (ended && running === 0) process.exit(0); };
process.stdin.on('end', () => { ended = true; done(); });
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  held += chunk;
  for (let nl = held.indexOf('\\n'); nl >= 0; nl = held.indexOf('\\n')) {
    const line = held.slice(0, nl);
    held = held.slice(nl + 1);
    let req;
    try { req = JSON.parse(line); } catch { continue; }
    if (!req || typeof req.id !== 'number') continue;
    if (typeof req.command !== 'string' || !Array.isArray(req.args) || !req.args.every((a) => typeof a === 'string')) {
      reply({ id: req.id, exitCode: null, stdout: '', stderr: '', failure: 'malformed request to the command helper' });
      continue;
    }
    running++;
    run(req.command, req.args, typeof req.stdin === 'string' ? req.stdin : undefined).then((r) => { reply({ id: req.id, ...r }); running--; done(); });
  }
});
`;

interface Pending {
  resolve: (r: CommandResult) => void;
  timer: NodeJS.Timeout;
}

export class CommandHelper {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private held = '';
  private alive = true;
  private closing = false;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    private readonly onExit: (why: string) => void,
  ) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onData(chunk));
    child.stdin.on('error', () => {
      // EPIPE when the helper died: its exit handler answers what was pending.
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.gone(`command helper exited (${signal ?? `code ${String(code)}`})`);
        resolve();
      });
      child.on('error', (err) => {
        this.gone(`command helper failed: ${err.message}`);
        resolve();
      });
    });
  }

  /** Starts the helper (one fork: do it early, while this process is small). */
  static start(onExit: (why: string) => void = () => undefined): CommandHelper {
    const child = spawn(process.execPath, ['-e', HELPER_SOURCE], { stdio: ['pipe', 'pipe', 'inherit'] });
    return new CommandHelper(child, onExit);
  }

  /** The helper's process id (undefined if it could not start). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether commands still go to the helper (false: they run directly). */
  get running(): boolean {
    return this.alive;
  }

  /** A CommandRunner: through the helper while it runs, directly otherwise. */
  readonly run: CommandRunner = (command, args, stdin) => {
    if (!this.alive) return runCommand(command, args, stdin);
    const id = this.nextId++;
    return new Promise<CommandResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ exitCode: null, stdout: '', stderr: '', failure: `command helper did not answer within ${COMMAND_TIMEOUT_MS + HELPER_ANSWER_SLACK_MS} ms` });
      }, COMMAND_TIMEOUT_MS + HELPER_ANSWER_SLACK_MS);
      this.pending.set(id, { resolve, timer });
      this.child.stdin.write(`${JSON.stringify({ id, command, args, ...(stdin !== undefined ? { stdin } : {}) })}\n`);
    });
  };

  /** Lets the helper finish what it runs, then ends it (killed after HELPER_CLOSE_GRACE_MS). */
  async close(): Promise<void> {
    if (!this.alive) return;
    this.closing = true;
    this.child.stdin.end();
    const kill = setTimeout(() => this.child.kill('SIGKILL'), HELPER_CLOSE_GRACE_MS);
    await this.exited;
    clearTimeout(kill);
  }

  private onData(chunk: string): void {
    this.held += chunk;
    for (let nl = this.held.indexOf('\n'); nl >= 0; nl = this.held.indexOf('\n')) {
      const line = this.held.slice(0, nl);
      this.held = this.held.slice(nl + 1);
      let answer: CommandResult & { id?: unknown };
      try {
        answer = JSON.parse(line) as CommandResult & { id?: unknown };
      } catch {
        continue;
      }
      const p = typeof answer.id === 'number' ? this.pending.get(answer.id) : undefined;
      if (p === undefined) continue;
      this.pending.delete(answer.id as number);
      clearTimeout(p.timer);
      const { exitCode, stdout, stderr, failure } = answer;
      p.resolve({ exitCode, stdout, stderr, ...(failure !== undefined ? { failure } : {}) });
    }
  }

  private gone(why: string): void {
    if (!this.alive) return;
    this.alive = false;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.resolve({ exitCode: null, stdout: '', stderr: '', failure: why });
    }
    this.pending.clear();
    if (!this.closing) this.onExit(why);
  }
}
