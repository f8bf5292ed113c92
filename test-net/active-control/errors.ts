/**
 * Operational errors of the active-control integration test's orchestration
 * (test-net/active-control.itest.ts). Each carries a stable `code` so a failed
 * run names what went wrong (a child that died, a wait that timed out) rather
 * than only a message.
 */

export class ActiveControlError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A child process (origin, peers, daemon, probe) exited early, failed, or printed something unusable. */
export class ChildProcessFailedError extends ActiveControlError {
  constructor(name: string, detail: string, options?: { cause?: unknown }) {
    super('ACTIVE_CONTROL_CHILD_FAILED', `${name}: ${detail}`, options);
  }
}

/** Something the run waits for (a log line, a timeline entry, a rule) did not happen in time. */
export class WaitTimeoutError extends ActiveControlError {
  constructor(what: string, timeoutMs: number, detail = '') {
    super('ACTIVE_CONTROL_WAIT_TIMEOUT', `${what}: not within ${timeoutMs} ms${detail === '' ? '' : `\n${detail}`}`);
  }
}

/** A policy the test generates was not what it meant: a valid one rejected, or the invalid one accepted. */
export class TestPolicyError extends ActiveControlError {
  constructor(detail: string) {
    super('ACTIVE_CONTROL_POLICY', detail);
  }
}

/** The built CLI (dist/) is missing: the test drives the real binary and will not run without it. */
export class CliMissingError extends ActiveControlError {
  constructor(path: string) {
    super('ACTIVE_CONTROL_CLI_MISSING', `${path} not found: build first (npx tsc -p tsconfig.json)`);
  }
}
