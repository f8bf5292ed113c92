/**
 * The policy module's public face: load and check a policy file, describe it,
 * evaluate rules. Imports nothing else of ours (ARCHITECTURE.md, modules).
 */
export { loadPolicy, loadPolicyFile } from './load.js';
export type { LoadResult } from './load.js';
export { describePolicy } from './describe.js';
export { evaluate, initialVerdictState, verdictPhase } from './verdict.js';
export type { Decision, Verdict, VerdictMetrics, VerdictPhase, VerdictRule, VerdictState } from './verdict.js';
export { PolicyError, SchemaDriftError, POLICY_ISSUE_CODES, formatIssue } from './errors.js';
export type { PolicyIssue, PolicyIssueCode } from './errors.js';
export { DEFAULT_POLICY_PATH } from './default-path.js';
export { serverMatches, clientAddressSelected } from './server-match.js';
export type { ServerRef } from './server-match.js';
export { addressContains, canonicalIp, formatAddress, parseAddress } from './address.js';
export type { Address, IpFamily } from './address.js';
export { formatDuration, formatSize, parseDuration, parseSize } from './units.js';
export * from './types.js';
export * from './limits.js';
