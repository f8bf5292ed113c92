/**
 * Runs an external tool with an argument array (never a shell), optionally
 * feeding stdin, with a timeout and an output cap. The only process-spawning
 * code of the actuators (the command helper runs the same function in its own process).
 */
import { spawn } from 'node:child_process';

/** iptables tools wait for the xtables lock; beyond this something is wedged. */
export const COMMAND_TIMEOUT_MS = 15_000;
/** Cap on captured stdout+stderr: a huge ruleset's iptables-save stays well below this. */
export const MAX_COMMAND_OUTPUT_BYTES = 64 * 1024 * 1024;

export interface CommandResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the process could not start (ENOENT...) or was killed by timeout/cap. */
  readonly failure?: string;
}

export type CommandRunner = (command: string, args: readonly string[], stdin?: string) => Promise<CommandResult>;

/**
 * A runner over `spawnFn` with the given limits. Self-contained on purpose (it names nothing from
 * outside its parameters and globals): the command helper (command-helper.ts) runs this function's
 * source text in its own process, so both run commands the same way.
 */
export function makeCommandRunner(spawnFn: typeof spawn, timeoutMs: number, maxOutputBytes: number): CommandRunner {
  return (command, args, stdin) =>
    new Promise((resolve) => {
      const child = spawnFn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      let failure: string | undefined;
      const collect = (sink: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxOutputBytes) {
          failure = `output exceeded ${maxOutputBytes} bytes`;
          child.kill('SIGKILL');
          return;
        }
        sink.push(chunk);
      };
      child.stdout.on('data', collect(out));
      child.stderr.on('data', collect(err));
      child.stdin.on('error', () => {
        // EPIPE when the tool exits early; its exit code and stderr say why.
      });
      child.on('error', (e) => {
        failure = e.message;
      });
      child.on('close', (code, signal) => {
        if (signal && !failure) failure = `killed by ${signal}`;
        resolve({
          exitCode: code,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          ...(failure ? { failure } : {}),
        });
      });
      child.stdin.end(stdin ?? '');
    });
}

/** Runs the command in this process (a fork of it: see command-helper.ts for why the daemon does not). */
export const runCommand: CommandRunner = makeCommandRunner(spawn, COMMAND_TIMEOUT_MS, MAX_COMMAND_OUTPUT_BYTES);
