/**
 * Runs an external tool with an argument array (never a shell), optionally
 * feeding stdin, with a timeout and an output cap. The only process-spawning
 * code of the actuators.
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

export const runCommand: CommandRunner = (command, args, stdin) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let failure: string | undefined;
    const collect = (sink: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_COMMAND_OUTPUT_BYTES) {
        failure = `output exceeded ${MAX_COMMAND_OUTPUT_BYTES} bytes`;
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
