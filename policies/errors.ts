/**
 * Errors and issue codes of the policy module (one place, after fastify's
 * error-code table). Loading never throws: it returns `PolicyIssue`s. Callers
 * that prefer an exception (the daemon at start-up) wrap them in `PolicyError`.
 */

/**
 * Stable snake_case codes of the problems a policy file can have. Tests and
 * tooling match on these, so they never change meaning once published.
 */
export const POLICY_ISSUE_CODES = {
  file_unreadable: 'the file could not be read',
  file_too_large: 'the file is larger than MAX_POLICY_BYTES',
  yaml_syntax: 'YAML could not parse the text (its own message, line and column)',
  yaml_alias_limit: 'YAML aliases expand beyond MAX_YAML_ALIASES (alias bomb)',
  not_a_mapping: 'the document is empty or not a mapping',
  unknown_field: 'a field the schema does not know (usually a typo)',
  missing_field: 'a required field is absent',
  wrong_type: 'a value has the wrong type',
  bad_value: 'a value is outside its allowed range or set',
  bad_duration: 'a duration that is not a number of ms or "<n>ms|s|m|h"',
  bad_size: 'a size that is not a number of bytes or "<n>B|KB|MB|GB"',
  bad_address: 'an IP address, endpoint or CIDR that does not parse or is not allowed here',
  bad_interface: 'a network interface name Linux would not accept',
  threshold_order: 'a low threshold that is not below its high threshold',
  threshold_missing: 'a threshold the rule metric needs is absent',
  threshold_unused: 'a threshold the rule metric never reads (likely a mistake)',
  conflict: 'two fields that contradict each other',
  internal_error: 'a bug in the policy module (the schema accepted a value the converter refused)',
  too_many_issues: 'more issues than MAX_REPORTED_ISSUES; the rest are not listed',
} as const;

export type PolicyIssueCode = keyof typeof POLICY_ISSUE_CODES;

/** One problem in a policy file, located precisely (1-based line/column; 0 when it concerns the whole file). */
export interface PolicyIssue {
  file: string;
  line: number;
  column: number;
  /** Field path such as `rules[0].high.queryRate`; empty for the whole document. */
  path: string;
  code: PolicyIssueCode;
  message: string;
}

/** `FILE:LINE:COL: field: message`, the compiler-style form editors can jump to. */
export function formatIssue(issue: PolicyIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  const field = issue.path === '' ? '' : `${issue.path}: `;
  return `${where}: ${field}${issue.message}`;
}

/** Thrown by callers that want an exception for an invalid policy; carries every issue. */
export class PolicyError extends Error {
  readonly code = 'ERR_POLICY_INVALID';
  readonly issues: readonly PolicyIssue[];

  constructor(issues: readonly PolicyIssue[]) {
    const first = issues[0];
    const head = first === undefined ? 'invalid policy' : formatIssue(first);
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(`${head}${more}`);
    this.name = 'PolicyError';
    this.issues = issues;
  }
}

/**
 * A value passed the schema but its converter refused it: a bug in this module
 * (schema and converters disagree), never a user error. `loadPolicy` reports it
 * as an `internal_error` issue instead of throwing.
 */
export class SchemaDriftError extends Error {
  readonly code = 'ERR_POLICY_SCHEMA_DRIFT';

  constructor(detail: string) {
    super(`policy schema and converter disagree: ${detail}`);
    this.name = 'SchemaDriftError';
  }
}
