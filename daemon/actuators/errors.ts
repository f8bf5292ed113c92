/**
 * Operational errors of the actuators (iptables, conntrack). One place for
 * every error code so callers and tests match them by class or by `code`.
 */

/** Base class: every actuator error carries a stable snake_case `code`. */
export abstract class ActuatorError extends Error {
  abstract readonly code: string;
}

/** The desired state handed to the actuator is malformed (bad address, id, port...). */
export class InvalidDesiredStateError extends ActuatorError {
  readonly code = 'actuator.invalid_desired_state';
  constructor(readonly problems: readonly string[]) {
    super(`invalid desired state: ${problems.join('; ')}`);
    this.name = 'InvalidDesiredStateError';
  }
}

/** An iptables tool (save/restore/--version) exited non-zero or could not start. */
export class IptablesCommandError extends ActuatorError {
  readonly code = 'actuator.iptables_command_failed';
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${command} ${args.join(' ')} failed (exit ${exitCode ?? 'none'}): ${stderr.trim() || '(no stderr)'}`);
    this.name = 'IptablesCommandError';
  }
}

/** Neither the requested nor any known iptables backend could be found. */
export class IptablesBackendError extends ActuatorError {
  readonly code = 'actuator.iptables_backend_unavailable';
  constructor(detail: string) {
    super(`no usable iptables backend: ${detail}`);
    this.name = 'IptablesBackendError';
  }
}

/** libnetfilter_conntrack.so.3 could not be loaded or lacks a symbol. */
export class ConntrackLibraryError extends ActuatorError {
  readonly code = 'actuator.conntrack_library_unavailable';
  constructor(detail: string) {
    super(`libnetfilter_conntrack unavailable: ${detail}`);
    this.name = 'ConntrackLibraryError';
  }
}

/** A netlink call failed; `errno`/`errnoName` come from the C library. */
export class ConntrackNetlinkError extends ActuatorError {
  readonly code = 'actuator.conntrack_netlink_failed';
  constructor(
    readonly operation: string,
    readonly errno: number,
    readonly errnoName: string,
  ) {
    super(`conntrack ${operation} failed: ${errnoName} (errno ${errno})`);
    this.name = 'ConntrackNetlinkError';
  }
}

/** The Conntrack handle was used after close(). */
export class ConntrackClosedError extends ActuatorError {
  readonly code = 'actuator.conntrack_closed';
  constructor() {
    super('conntrack handle is closed');
    this.name = 'ConntrackClosedError';
  }
}

/** A filter or tuple passed to Conntrack is malformed (bad address, mixed families). */
export class InvalidConntrackFilterError extends ActuatorError {
  readonly code = 'actuator.invalid_conntrack_filter';
  constructor(detail: string) {
    super(`invalid conntrack filter: ${detail}`);
    this.name = 'InvalidConntrackFilterError';
  }
}

/**
 * The raw socket that forges TCP resets (tcp-reset.ts) could not be opened,
 * or libc could not be bound. Opening needs CAP_NET_RAW. `errno` is 0 when
 * the failure was not a system call (e.g. libc missing).
 */
export class RawSocketError extends ActuatorError {
  readonly code = 'actuator.raw_socket_failed';
  constructor(
    readonly operation: string,
    readonly errno: number,
    readonly errnoName: string,
    readonly detail: string,
  ) {
    super(`raw socket ${operation} failed: ${errno !== 0 ? `${errnoName} (errno ${errno}, ${detail})` : detail}`);
    this.name = 'RawSocketError';
  }
}
