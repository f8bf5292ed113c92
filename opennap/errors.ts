/**
 * Operational errors of the opennap module, each a named class with a stable
 * `code` (STYLE.md §7). Parsers never throw: they return result values. These
 * classes are for callers that hand a constructor or generator an argument it
 * cannot work with (a programming or configuration mistake), so the mistake
 * is reported by name rather than as a bare RangeError.
 */

/** Base class: every opennap error carries a stable snake_case `code`. */
export class OpenNapError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** `Random.int(n)` / `Random.pick([])`: the range to draw from is empty or not an integer. */
export class RandomRangeError extends OpenNapError {
  constructor(message: string) {
    super('opennap.random_range', message);
  }
}

/** `ZipfSampler`: weights are empty, negative, not finite, or all zero. */
export class ZipfWeightsError extends OpenNapError {
  constructor(message: string) {
    super('opennap.zipf_weights', message);
  }
}

/** `assignFilesToPeers`: the peer count is not a positive integer. */
export class PeerCountError extends OpenNapError {
  constructor(message: string) {
    super('opennap.peer_count', message);
  }
}

/** `paperCatalogue`: the seed is not a finite number, or no duplicate-free naming was found. */
export class CatalogueError extends OpenNapError {
  constructor(message: string) {
    super('opennap.catalogue', message);
  }
}

// ── directory server, client and peer workload (opennap/server.ts, client.ts, peer-workload.ts) ──

/** `OpenNapServer.start()` twice, or `address()` before `start()`. */
export class ServerStateError extends OpenNapError {
  constructor(message: string) {
    super('opennap.server_state', message);
  }
}

/** A client call that needs a connection (login, search, ...) made before `connect()` or after close. */
export class NotConnectedError extends OpenNapError {
  constructor(message = 'not connected to an OpenNap server') {
    super('opennap.not_connected', message);
  }
}

/** The server refused a login: it answered 0 (error) or 10 (invalid nick) instead of 3. */
export class LoginRejectedError extends OpenNapError {
  constructor(message: string) {
    super('opennap.login_rejected', message);
  }
}

/** The server answered a download request (203) with 206: the user or file is not available. */
export class DownloadUnavailableError extends OpenNapError {
  constructor(
    readonly nick: string,
    readonly filename: string,
  ) {
    super('opennap.download_unavailable', `${nick} has no "${filename}" available`);
  }
}

/** A request waited longer than its timeout for the server's answer. */
export class RequestTimeoutError extends OpenNapError {
  constructor(what: string, timeoutMs: number) {
    super('opennap.request_timeout', `${what}: no answer within ${timeoutMs} ms`);
  }
}

/** The connection closed while requests were still waiting for answers. */
export class ConnectionClosedError extends OpenNapError {
  constructor(message = 'connection to the OpenNap server closed') {
    super('opennap.connection_closed', message);
  }
}

/** The server sent bytes that do not frame (a length above the client's maximum). */
export class ServerProtocolError extends OpenNapError {
  constructor(message: string) {
    super('opennap.server_protocol', message);
  }
}

/** `runPeerWorkload`: an option is out of range (count, rate, duration, group, catalogue). */
export class WorkloadOptionError extends OpenNapError {
  constructor(message: string) {
    super('opennap.workload_option', message);
  }
}

/** `OpenNapClient.search()`: more searches waiting for answers than the client's bound. */
export class TooManyPendingError extends OpenNapError {
  constructor(limit: number) {
    super('opennap.too_many_pending', `more than ${limit} searches waiting for answers`);
  }
}
