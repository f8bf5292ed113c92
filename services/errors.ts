/**
 * Operational errors of the services (STYLE.md §7): each a named class with
 * a stable `code`. Bad bytes from clients or servers are never errors here
 * (they are counted drops); these report misuse and configuration mistakes,
 * and the origin becoming unreachable.
 */

/** Base class: every service error carries a stable snake_case `code`. */
export class ServiceError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A service init object holds a value it cannot work with (negative TTL, zero cap, bad port...). */
export class ServiceConfigError extends ServiceError {
  constructor(message: string) {
    super('service.config', message);
  }
}

/** `start()` on a started service, or `address()` on one that is not listening. */
export class ServiceStateError extends ServiceError {
  constructor(message: string) {
    super('service.state', message);
  }
}

/** Why an upstream session to the origin could not be opened. */
export type UpstreamFailureReason = 'connect_failed' | 'connect_timeout' | 'bind_failed';

/**
 * The origin server could not be reached for a client's session: carried by
 * the cache proxy's `'unhealthy'` event so the daemon withdraws its DNAT rule.
 */
export class UpstreamUnreachableError extends ServiceError {
  constructor(
    readonly reason: UpstreamFailureReason,
    readonly origin: { ip: string; port: number },
    detail: string,
  ) {
    super(`service.upstream_${reason}`, `origin ${origin.ip}:${origin.port} unreachable (${reason}): ${detail}`);
  }
}
