/**
 * Operational errors of the OpenNap interoperability check, each a named
 * class with a stable `code` (STYLE.md §7), so the command line and tests
 * match on the code, never on the message.
 */

/** Base class of everything the interop check throws on purpose. */
export class InteropError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The command line is wrong: a missing or malformed `--server`, an unknown option, a bad number. */
export class InteropUsageError extends InteropError {
  constructor(message: string) {
    super('interop.usage', message);
  }
}

/** `--server` names an address that is not loopback: this check only ever talks to 127.0.0.0/8 or ::1. */
export class NonLoopbackServerError extends InteropError {
  constructor(host: string) {
    super('interop.non_loopback', `refusing to contact ${host}: the interop check talks to loopback servers only`);
  }
}
