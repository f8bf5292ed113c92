/**
 * Loading the policy for a command: the given file or the built-in default;
 * an invalid file prints every issue as FILE:LINE:COL and exits with code 1.
 */
import { DEFAULT_POLICY_PATH, formatIssue, loadPolicyFile } from '../../policies/index.js';
import type { Policy } from '../../policies/index.js';

export class PolicyLoadFailed extends Error {
  override readonly name = 'PolicyLoadFailed';
}

export async function loadPolicyOrExit(path: string | undefined): Promise<Policy> {
  const file = path ?? DEFAULT_POLICY_PATH;
  const result = await loadPolicyFile(file);
  if (result.kind === 'ok') return result.policy;
  for (const issue of result.errors) process.stderr.write(`${formatIssue(issue)}\n`);
  throw new PolicyLoadFailed(`${file}: invalid policy (${result.errors.length} issue(s))`);
}
