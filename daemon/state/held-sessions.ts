/**
 * Open sessions a bulk load (bulk-load.ts) keeps in memory and writes once,
 * at their close, as an appended row. Written live, a session is one insert
 * at its open and one update at its close, and the close lands on a page
 * written long before, which the next commit writes again together with the
 * open-session index's page: on the benchmark capture, 40 % of all writes to
 * the file (24,838 against 14,939 with sessions held, BENCHMARKS.md). Nothing
 * reads the file during a bulk load, so
 * the row may wait; the sessions still open when the load ends are written
 * then (`drain`). A load that dies midway loses its held sessions with the
 * rest of what it had not written; its file is incomplete either way.
 *
 * Bounded: past `cap` held sessions, new ones go to SQL as before, and none
 * is held again. That keeps one rule simple: a client endpoint's open session
 * is either held here or open in the file, never both.
 */
import type { RowOp } from './row-ops.js';

/**
 * Sessions held at most; a load with more open at once writes the rest as they come. Held sessions
 * live until their close, so they reach the old generation: at 100,000 open flows the cap added
 * about 10 MB to the peak RSS, and 65,536 added 30–40 MB of the 300 MB budget (BENCHMARKS.md). The
 * benchmark capture has at most 2,000 sessions open at once.
 */
export const MAX_HELD_SESSIONS = 16_384;

/** A session's row as the upserts would have left it (schema.ts, `sessions`). */
export interface HeldSession {
  serverId: number;
  ip: string;
  port: number;
  openTs: number;
  lastSeen: number;
  nick: string | null;
  files: number | null;
}

/** An open or update of a client's session: the fields of its session_open/session_update op that count here. */
export type SessionTouch = Pick<Extract<RowOp, { op: 'session_open' | 'session_update' }>, 'client' | 'ts' | 'lastSeen' | 'nick' | 'files'>;

/**
 * Server id, client ip and port as one text (no part contains the space; an IPv6 text may contain
 * ':'). One flat map: maps nested by ip (EndpointMap) cost one map per client address.
 */
const keyOf = (serverId: number, ip: string, port: number): string => `${serverId} ${ip} ${port}`;

export class HeldSessions {
  private readonly held = new Map<string, HeldSession>();
  /** False once the cap was reached or the hold was drained: no new session is held after that. */
  private accepting: boolean;

  /** `onFull` is told once, when the cap first turns a session away. */
  constructor(
    private readonly cap: number,
    private readonly onFull: () => void = () => {},
  ) {
    this.accepting = cap > 0;
  }

  get size(): number {
    return this.held.size;
  }

  /**
   * Opens or touches a client's session, as the session upsert does (statements.ts): the open time
   * stays, last_seen keeps the newest, nick and files the newest given. True when it is held; false
   * when the caller must write it to the file.
   */
  touch(serverId: number, op: SessionTouch): boolean {
    if (this.held.size === 0 && !this.accepting) return false;
    const key = keyOf(serverId, op.client.ip, op.client.port);
    const h = this.held.get(key);
    if (h !== undefined) {
      if (op.lastSeen > h.lastSeen) h.lastSeen = op.lastSeen;
      if (op.nick !== null) h.nick = op.nick;
      if (op.files !== null) h.files = op.files;
      return true;
    }
    if (!this.accepting) return false;
    if (this.held.size >= this.cap) {
      this.accepting = false;
      this.onFull();
      return false;
    }
    // The endpoint's strings and numbers, not the op's object: the op leaves with its batch.
    const { ip, port } = op.client;
    this.held.set(key, { serverId, ip, port, openTs: op.ts, lastSeen: op.lastSeen, nick: op.nick, files: op.files });
    return true;
  }

  /** Takes a client's held session out (it closes); undefined when it is not held. */
  take(serverId: number, ip: string, port: number): HeldSession | undefined {
    if (this.held.size === 0) return undefined;
    const key = keyOf(serverId, ip, port);
    const h = this.held.get(key);
    if (h !== undefined) this.held.delete(key);
    return h;
  }

  /** Every held session, still open, by open time; the hold ends for good (later sessions go to SQL). */
  drain(): HeldSession[] {
    const all = [...this.held.values()].sort((a, b) => a.openTs - b.openTs);
    this.held.clear();
    this.accepting = false;
    return all;
  }
}
