/**
 * `active-router policy check FILE`: loads a policy file, prints "FILE: ok"
 * and the policy in plain words, or every issue as `FILE:LINE:COL: field:
 * message` (compiler style, so editors can jump to it) and exits 1.
 */
import type { Command } from 'commander';
import { describePolicy, formatIssue, loadPolicyFile } from '../../policies/index.js';

/** Where the command writes; the process streams by default, a buffer in tests. */
export interface PolicyCommandIo {
  out(text: string): void;
  err(text: string): void;
  setExitCode(code: number): void;
}

const processIo: PolicyCommandIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  setExitCode: (c) => {
    process.exitCode = c;
  },
};

/** Checks one file; returns the exit code (0 ok, 1 invalid) after writing the report. */
export async function runPolicyCheck(file: string, io: PolicyCommandIo): Promise<number> {
  const result = await loadPolicyFile(file);
  if (result.kind === 'error') {
    for (const issue of result.errors) io.err(`${formatIssue(issue)}\n`);
    return 1;
  }
  io.out(`${file}: ok\n${describePolicy(result.policy)}\n`);
  return 0;
}

export function registerPolicyCommand(program: Command, io: PolicyCommandIo = processIo): void {
  const policy = program.command('policy').description('policy files: check and explain them');
  policy
    .command('check')
    .description('validate a policy file and describe it in plain words (exit 1 when invalid)')
    .argument('<file>', 'policy YAML file')
    .action(async (file: string) => {
      const code = await runPolicyCheck(file, io);
      if (code !== 0) io.setExitCode(code);
    });
}
