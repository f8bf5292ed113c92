/**
 * Operational errors of the analyzer layer, each with a stable `code` that
 * callers and tests match on. Bad bytes never become errors here (they are
 * counted events); these are configuration and programming mistakes.
 */
export class AnalyzerLayerError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Two registrations with the same protocol name. */
export class DuplicateAnalyzerError extends AnalyzerLayerError {
  constructor(name: string) {
    super('ERR_DUPLICATE_ANALYZER', `analyzer "${name}" is already registered`);
  }
}

/** A policy or server list names a protocol nobody registered. */
export class UnknownAnalyzerError extends AnalyzerLayerError {
  constructor(name: string) {
    super('ERR_UNKNOWN_ANALYZER', `no analyzer named "${name}" is registered`);
  }
}

/** A server entry names a protocol whose transport differs (e.g. a UDP analyzer on a TCP port). */
export class ServerSpecError extends AnalyzerLayerError {
  constructor(message: string) {
    super('ERR_SERVER_SPEC', message);
  }
}

/** A flow-table limit is not a positive integer or the limits contradict each other. */
export class InvalidFlowLimitsError extends AnalyzerLayerError {
  constructor(message: string) {
    super('ERR_INVALID_FLOW_LIMITS', message);
  }
}

/** The packet builder was given an impossible spec (bad address text, oversize payload). */
export class InvalidPacketSpecError extends AnalyzerLayerError {
  constructor(message: string) {
    super('ERR_INVALID_PACKET_SPEC', message);
  }
}
