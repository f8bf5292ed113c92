/**
 * Operational errors of the paper's experiment (seed 001 §5.3 as a demo and an
 * integration test). Each class carries a stable `code`; callers and tests
 * match on the code, never on the message.
 */

export class ExperimentError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The generated policy did not pass `loadPolicy`: a bug in experiment-policy.ts, never the user's. */
export class ExperimentPolicyError extends ExperimentError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super('EXPERIMENT_POLICY_INVALID', `the generated experiment policy is invalid:\n  ${issues.join('\n  ')}`);
    this.issues = issues;
  }
}

/** A bad option (scale, durations, paths) given to the experiment runner or the demo command. */
export class ExperimentOptionError extends ExperimentError {
  constructor(message: string) {
    super('EXPERIMENT_OPTION_INVALID', message);
  }
}

/** A child process (server, peers, daemon) did not start, did not get ready in time, or died early. */
export class ExperimentProcessError extends ExperimentError {
  readonly process: string;
  constructor(processName: string, message: string, options?: { cause?: unknown }) {
    super('EXPERIMENT_PROCESS_FAILED', `${processName}: ${message}`, options);
    this.process = processName;
  }
}

/** The CLI the experiment drives (dist/daemon/cli/main.js) is missing: `npm run build` first. */
export class ExperimentCliMissingError extends ExperimentError {
  constructor(path: string) {
    super('EXPERIMENT_CLI_MISSING', `${path} not found: build first (npm run build, or bash .ci/setup)`);
  }
}

/** The run was interrupted (SIGINT/SIGTERM) before it finished. */
export class ExperimentAbortedError extends ExperimentError {
  constructor(reason: string) {
    super('EXPERIMENT_ABORTED', `experiment aborted: ${reason}`);
  }
}
