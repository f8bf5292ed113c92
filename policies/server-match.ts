/**
 * Which servers and clients a rule concerns (rule.servers, rule.clients), for
 * the manager: pure predicates over the parsed policy and plain addresses.
 */
import { addressContains } from './address.js';
import type { ClientMatch, ProtocolName, ServerMatch } from './types.js';

export interface ServerRef {
  ip: string;
  port: number;
  protocol: ProtocolName;
}

/** True when the server falls inside every non-empty list of the match (empty lists mean any). */
export function serverMatches(match: ServerMatch, server: ServerRef): boolean {
  if (match.protocols.length > 0 && !match.protocols.includes(server.protocol)) return false;
  if (match.ports.length > 0 && !match.ports.includes(server.port)) return false;
  if (match.addresses.length > 0 && !match.addresses.some((a) => addressContains(a, server.ip))) return false;
  return true;
}

/**
 * True when a client address is selected by the address lists (interfaces are
 * matched by iptables `-i`, not here): inside `addresses` (or any when empty)
 * and not inside `except`.
 */
export function clientAddressSelected(match: ClientMatch, clientIp: string): boolean {
  if (match.except.some((a) => addressContains(a, clientIp))) return false;
  return match.addresses.length === 0 || match.addresses.some((a) => addressContains(a, clientIp));
}
