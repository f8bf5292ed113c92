/**
 * Operational errors of the network-namespace test bed. Every class carries a
 * stable `code` string so callers and tests match on it, never on messages.
 */

/** Base class: everything the test bed throws on purpose is a TestnetError. */
export class TestnetError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem found while validating a topology (see topology.ts). */
export interface TopologyIssue {
  /** Stable snake_case name, e.g. `topology.duplicate_host`. */
  readonly code: string;
  /** Where in the topology, e.g. `links[3].address`. */
  readonly path: string;
  readonly message: string;
}

/** A topology failed validation; `issues` lists every problem found, not just the first. */
export class TopologyInvalidError extends TestnetError {
  readonly issues: readonly TopologyIssue[];
  constructor(topologyName: string, issues: readonly TopologyIssue[]) {
    const lines = issues.map((i) => `  ${i.path}: ${i.message} (${i.code})`).join('\n');
    super('TESTNET_TOPOLOGY_INVALID', `topology "${topologyName}" is invalid:\n${lines}`);
    this.issues = issues;
  }
}

/** A testbed prefix does not match the allowed shape (see PREFIX_PATTERN in topology.ts). */
export class PrefixInvalidError extends TestnetError {
  constructor(prefix: string, reason: string) {
    super('TESTNET_PREFIX_INVALID', `invalid testbed prefix "${prefix}": ${reason}`);
  }
}

/** An external command (ip, ethtool, sh) exited non-zero or could not be started. */
export class CommandFailedError extends TestnetError {
  readonly command: string;
  readonly args: readonly string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(command: string, args: readonly string[], exitCode: number | null, stderr: string, cause?: unknown) {
    const shown = [command, ...args].join(' ');
    const detail = stderr.trim() === '' ? '(no stderr)' : stderr.trim();
    super('TESTNET_COMMAND_FAILED', `command failed (exit ${String(exitCode)}): ${shown}\n${detail}`, { cause });
    this.command = command;
    this.args = args;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** A host (or subnet) name that is not part of this testbed's topology. */
export class UnknownHostError extends TestnetError {
  constructor(what: string) {
    super('TESTNET_UNKNOWN_HOST', what);
  }
}

/** A ready-made topology name that does not exist (see topologies/index.ts). */
export class UnknownTopologyError extends TestnetError {
  constructor(name: string, known: readonly string[]) {
    super('TESTNET_UNKNOWN_TOPOLOGY', `unknown topology "${name}" (known: ${known.join(', ')})`);
  }
}

/** The testbed was already taken down; exec/spawn on it is a programming error. */
export class TestbedDownError extends TestnetError {
  constructor(prefix: string) {
    super('TESTNET_DOWN', `testbed ${prefix} is down`);
  }
}

/** No state file for a prefix, or one that cannot be read as a testbed record. */
export class TestbedStateError extends TestnetError {
  constructor(message: string, cause?: unknown) {
    super('TESTNET_STATE_INVALID', message, { cause });
  }
}
