/**
 * One redirected client of the cache proxy and its own session to the
 * origin (seed 001 §5.1: the proxy is a server to its clients and a client
 * peer to the origin). Every frame that is not a search is relayed both ways
 * unchanged, frame by frame; searches (200) are answered by the proxy (the
 * `SessionCore`), which may forward the bare keywords on this session's
 * upstream. On the upstream, 201/202 answer the proxy's own forwarded
 * searches, in order (FIFO), and are consumed, never relayed.
 *
 * The client's login and shares are tracked for the local directory. Bad
 * input never throws: every socket has an error handler, a stalled partial
 * frame or a client that does not read is dropped alone, counted by reason.
 */
import { performance } from 'node:perf_hooks';
import net from 'node:net';
import type { Socket } from 'node:net';
import { FrameDecoder, WIRE_MAX_DATA, encodeFrame, frameBytes } from '../../opennap/codec.js';
import { MessageType } from '../../opennap/message-types.js';
import { dataText, parseLogin, parseShareFile } from '../../opennap/messages.js';
import { plainIp } from '../../opennap/server-connection.js';
import { UpstreamUnreachableError } from '../errors.js';
import { forwardSearchText } from './cache-key.js';
import type { QueryKey } from './cache-key.js';
import { AnswerMemo } from './answer-memo.js';
import type { MemoBudget } from './answer-memo.js';
import type { EventCounters } from './counters.js';
import {
  ANSWER_MEMO_BYTES_PER_SESSION,
  ANSWER_MEMO_ENTRIES_PER_SESSION,
  FORWARD_SKIP_QUEUE_BYTES,
  MAX_CLIENT_OUTPUT_BYTES,
  MAX_FORWARDS_PER_SESSION,
  MAX_PENDING_UPSTREAM_BYTES,
  MAX_RELAYED_SEARCHES_PER_SESSION,
  MAX_RESULTS_PER_ENTRY,
  MAX_UPSTREAM_OUTPUT_BYTES,
} from './limits.js';
import type { LocalDirectory, Searcher } from './local-directory.js';
import type { HostPort, UpstreamLease, UpstreamSourceBinder } from './types.js';
import { CLOSE_LINGER_MS } from '../../opennap/server-connection.js';

/** How long a half-closed side gets to flush before it is destroyed anyway (as the server). */
export { CLOSE_LINGER_MS } from '../../opennap/server-connection.js';

/** What a session needs from its proxy (a narrow component interface, STYLE.md §6). */
export interface SessionCore {
  readonly origin: HostPort;
  readonly upstreamSource: UpstreamSourceBinder;
  readonly upstreamConnectTimeoutMs: number;
  readonly directory: LocalDirectory;
  readonly counters: EventCounters;
  /** The byte budget every session's answer memo draws on. */
  readonly memoBudget: MemoBudget;
  /** The whole answer (201…, 202, or 404 + 202) to one search of `session`. May call `session.forward`. */
  answerSearch(session: ProxySession, data: Buffer): Buffer;
  /** A forwarded search got its 202: deposit what came. */
  forwardDone(session: ProxySession, key: string, payloads: Buffer[]): void;
  /** A forwarded search will never be answered (session closed). */
  forwardAbandoned(session: ProxySession, key: string): void;
  recordLatency(ms: number): void;
  upstreamOpened(): void;
  upstreamFailed(err: UpstreamUnreachableError): void;
  sessionClosed(session: ProxySession): void;
}

/** What a 201/202 on the upstream answers: a forwarded search (consumed) or a relayed one (passed on). */
type Pending = { kind: 'forward'; key: string; payloads: Buffer[]; refused: boolean } | { kind: 'relay' };

/** Strips one pair of surrounding quotes (102 data is the file name, quoted or not). */
function unquoted(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

export class ProxySession {
  readonly clientIp: string;
  readonly clientPort: number;
  /** This client's ready answers by search text (see answer-memo.ts). */
  readonly memo: AnswerMemo;
  private readonly clientDecoder = new FrameDecoder(WIRE_MAX_DATA);
  private readonly upstreamDecoder = new FrameDecoder(WIRE_MAX_DATA);
  private upstream: Socket | undefined;
  private lease: UpstreamLease | undefined;
  /** Client bytes waiting for the upstream connection. */
  private pendingUp: Buffer[] = [];
  private pendingUpBytes = 0;
  private readonly fifo: Pending[] = [];
  private forwardsWaiting = 0;
  private relayedWaiting = 0;
  /** The login the client sent (nick, data port), once it sent one. */
  private login: { nick: string; port: number } | undefined;
  private loggedIn = false;
  private closed = false;
  private clientClosed = false;
  private upstreamClosed = false;
  /** ms timestamp (Date.now) since the client decoder holds a partial frame; 0 when none. */
  partialSince = 0;

  constructor(
    readonly id: number,
    private readonly client: Socket,
    private readonly core: SessionCore,
  ) {
    this.clientIp = plainIp(client.remoteAddress);
    this.clientPort = client.remotePort ?? 0;
    this.memo = new AnswerMemo(core.memoBudget, ANSWER_MEMO_ENTRIES_PER_SESSION, ANSWER_MEMO_BYTES_PER_SESSION);
    client.setNoDelay(true);
    client.on('error', () => core.counters.inc('cache_proxy.client_socket_error'));
    client.on('data', (chunk: Buffer) => this.onClientData(chunk));
    client.on('end', () => this.onClientEnd());
    client.on('close', () => this.onClientClose());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The searcher identity for the local directory, once the client sent a login. */
  searcher(): Searcher | undefined {
    return this.login === undefined ? undefined : { session: this.id, nick: this.login.nick, port: this.login.port };
  }

  /** Opens this client's own session to the origin through the source binder. */
  async open(): Promise<void> {
    const origin = this.core.origin;
    let lease: UpstreamLease;
    try {
      lease = await this.core.upstreamSource.bind({ ip: this.clientIp, port: this.clientPort });
    } catch (err) {
      this.failUpstream(new UpstreamUnreachableError('bind_failed', origin, err instanceof Error ? err.message : String(err)));
      return;
    }
    if (this.closed) {
      lease.release();
      return;
    }
    this.lease = lease;
    const socket = net.connect({ host: origin.ip, port: origin.port, localAddress: lease.localAddress, localPort: lease.localPort });
    this.upstream = socket;
    socket.setNoDelay(true);
    let connected = false;
    const timer = setTimeout(() => {
      if (connected) return;
      this.failUpstream(
        new UpstreamUnreachableError('connect_timeout', origin, `no connection within ${this.core.upstreamConnectTimeoutMs} ms`),
      );
    }, this.core.upstreamConnectTimeoutMs);
    timer.unref();
    socket.on('error', (err) => {
      if (!connected) {
        clearTimeout(timer);
        this.failUpstream(new UpstreamUnreachableError('connect_failed', origin, err.message));
      } else {
        this.core.counters.inc('cache_proxy.upstream_socket_error');
      }
    });
    socket.on('close', () => this.onUpstreamClose());
    socket.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      if (this.closed) {
        socket.destroy();
        return;
      }
      this.core.upstreamOpened();
      socket.on('data', (chunk: Buffer) => this.onUpstreamData(chunk));
      socket.on('end', () => this.onUpstreamEnd());
      if (this.pendingUp.length > 0) {
        socket.write(this.pendingUp.length === 1 ? this.pendingUp[0]! : Buffer.concat(this.pendingUp));
        this.pendingUp = [];
        this.pendingUpBytes = 0;
      }
    });
  }

  /**
   * Forwards the bare keywords of `key` to the origin on this session (step
   * 3). Returns false when skipped: the session's forward bound or a backlog
   * toward the origin (forwards are never worth piling onto a slow origin).
   */
  forward(key: QueryKey): boolean {
    if (this.closed) return false;
    if (this.forwardsWaiting >= MAX_FORWARDS_PER_SESSION) {
      this.core.counters.inc('cache_proxy.forward_skipped_session_limit');
      return false;
    }
    const backlog = this.upstream !== undefined && this.upstream.connecting === false ? this.upstream.writableLength : this.pendingUpBytes;
    if (backlog > FORWARD_SKIP_QUEUE_BYTES) {
      this.core.counters.inc('cache_proxy.forward_skipped_backlog');
      return false;
    }
    this.sendUp(encodeFrame(MessageType.Search, forwardSearchText(key)));
    if (this.closed) return false;
    this.fifo.push({ kind: 'forward', key: key.key, payloads: [], refused: false });
    this.forwardsWaiting++;
    return true;
  }

  /** Drops the client with a TCP reset (it reconnects at once) and closes the upstream. */
  reset(): void {
    if (this.closed && this.clientClosed) return;
    this.core.counters.inc('cache_proxy.session_reset');
    this.client.resetAndDestroy();
    this.upstream?.destroy();
    this.markClosed();
  }

  /** Closes both sides at once (proxy stop). */
  destroy(): void {
    this.client.destroy();
    this.upstream?.destroy();
    this.markClosed();
  }

  /** Drops this client alone, counted by `reason`. */
  drop(reason: string): void {
    if (this.closed) return;
    this.core.counters.inc(reason);
    this.destroy();
  }

  // ── client → proxy ─────────────────────────────────────────────────────

  private onClientData(chunk: Buffer): void {
    if (this.closed) return;
    const t0 = performance.now();
    this.clientDecoder.push(chunk);
    const up = this.upstream;
    // Corked: all answers and relays caused by this chunk leave in one writev per socket.
    this.client.cork();
    up?.cork();
    try {
      for (;;) {
        const r = this.clientDecoder.next();
        if (r.kind === 'incomplete') break;
        if (r.kind === 'error') {
          // Unreachable with the wire maximum, but a decoder error must still cost only this client.
          this.drop('cache_proxy.client_frame_too_large');
          break;
        }
        const { type, data } = r.frame;
        if (type === MessageType.Search) this.onSearch(data, t0);
        else this.onClientFrame(type, data);
        if (this.closed) break;
      }
    } finally {
      this.client.uncork();
      up?.uncork();
    }
    if (this.closed) return;
    if (this.client.writableLength > MAX_CLIENT_OUTPUT_BYTES) {
      this.drop('cache_proxy.client_output_overflow');
      return;
    }
    if (this.clientDecoder.buffered > 0) {
      if (this.partialSince === 0) this.partialSince = Date.now();
    } else {
      this.partialSince = 0;
    }
  }

  private onSearch(data: Buffer, t0: number): void {
    if (this.login === undefined) {
      // Before any login the origin decides (it closes such clients): relay unchanged, pass its answer back.
      if (this.relayedWaiting >= MAX_RELAYED_SEARCHES_PER_SESSION) {
        this.drop('cache_proxy.too_many_relayed_searches');
        return;
      }
      this.core.counters.inc('cache_proxy.search_before_login_relayed');
      this.sendUp(frameBytes(data));
      this.fifo.push({ kind: 'relay' });
      this.relayedWaiting++;
      return;
    }
    const answer = this.core.answerSearch(this, data);
    this.client.write(answer);
    this.core.recordLatency(performance.now() - t0);
  }

  private onClientFrame(type: number, data: Buffer): void {
    const dir = this.core.directory;
    switch (type) {
      case MessageType.Login:
      case MessageType.NewUserLogin:
        if (this.login === undefined) {
          const parsed = parseLogin(dataText(data));
          if (parsed.kind === 'ok') {
            const l = parsed.value;
            this.login = { nick: l.nick, port: l.port };
            dir.addUser(this.id, { nick: l.nick, ip: this.clientIp, port: l.port, linkType: l.linkType });
          } else {
            this.core.counters.inc(`cache_proxy.${parsed.code.replace(/^opennap\./, '')}`);
          }
        }
        break;
      case MessageType.ShareFile:
        if (this.login !== undefined) {
          const parsed = parseShareFile(dataText(data));
          if (parsed.kind === 'ok') {
            const outcome = dir.share(this.id, parsed.value);
            if (outcome !== 'ok') this.core.counters.inc(`cache_proxy.local_share_${outcome}`);
          } else {
            this.core.counters.inc('cache_proxy.local_share_unreadable');
          }
        }
        break;
      case MessageType.RemoveFile:
        if (this.login !== undefined && !dir.unshare(this.id, unquoted(dataText(data)))) {
          this.core.counters.inc('cache_proxy.local_unshare_unknown');
        }
        break;
      default:
        break;
    }
    // Whatever it is, the origin gets it byte for byte.
    this.sendUp(frameBytes(data));
  }

  private sendUp(bytes: Buffer): void {
    const up = this.upstream;
    if (up !== undefined && !up.connecting) {
      if (up.destroyed) return;
      up.write(bytes);
      if (up.writableLength > MAX_UPSTREAM_OUTPUT_BYTES) this.drop('cache_proxy.upstream_output_overflow');
      return;
    }
    this.pendingUp.push(bytes);
    this.pendingUpBytes += bytes.length;
    if (this.pendingUpBytes > MAX_PENDING_UPSTREAM_BYTES) this.drop('cache_proxy.pending_upstream_overflow');
  }

  private onClientEnd(): void {
    // The client finished sending: pass the half-close on once everything queued has gone up.
    if (this.upstream !== undefined && !this.upstream.connecting) this.upstream.end();
  }

  private onClientClose(): void {
    this.clientClosed = true;
    if (this.upstream !== undefined && !this.upstream.destroyed) {
      if (this.upstream.connecting) this.upstream.destroy();
      else {
        this.upstream.end();
        const up = this.upstream;
        setTimeout(() => up.destroy(), CLOSE_LINGER_MS).unref();
      }
    }
    this.markClosed();
  }

  // ── origin → proxy ─────────────────────────────────────────────────────

  private onUpstreamData(chunk: Buffer): void {
    if (this.clientClosed) return;
    this.upstreamDecoder.push(chunk);
    this.client.cork();
    try {
      for (;;) {
        const r = this.upstreamDecoder.next();
        if (r.kind === 'incomplete') break;
        if (r.kind === 'error') {
          this.drop('cache_proxy.upstream_frame_too_large');
          break;
        }
        this.onUpstreamFrame(r.frame.type, r.frame.data);
        if (this.clientClosed) break;
      }
    } finally {
      this.client.uncork();
    }
    if (!this.closed && this.client.writableLength > MAX_CLIENT_OUTPUT_BYTES) this.drop('cache_proxy.client_output_overflow');
  }

  private onUpstreamFrame(type: number, data: Buffer): void {
    const head = this.fifo[0];
    switch (type) {
      case MessageType.SearchResult:
        if (head?.kind === 'forward') {
          if (head.payloads.length < MAX_RESULTS_PER_ENTRY) head.payloads.push(Buffer.from(data));
          else this.core.counters.inc('cache_proxy.forward_result_over_cap');
          return;
        }
        if (head === undefined) {
          this.core.counters.inc('cache_proxy.upstream_unmatched_result');
          return;
        }
        break;
      case MessageType.SearchEnd:
        if (head === undefined) {
          this.core.counters.inc('cache_proxy.upstream_unmatched_result');
          return;
        }
        this.fifo.shift();
        if (head.kind === 'forward') {
          this.forwardsWaiting--;
          // A refused forward learnt nothing: it must not be cached as "no results".
          if (head.refused) this.core.forwardAbandoned(this, head.key);
          else this.core.forwardDone(this, head.key, head.payloads);
          return;
        }
        this.relayedWaiting--;
        break;
      case MessageType.GeneralError:
        // search.c answers an unreadable search with 404 then 202: a 404 about our own forward is ours.
        if (head?.kind === 'forward' && dataText(data).startsWith('invalid search request')) {
          this.core.counters.inc('cache_proxy.forward_refused');
          head.refused = true;
          return;
        }
        break;
      case MessageType.LoginAck:
        if (this.login !== undefined) this.loggedIn = true;
        break;
      case MessageType.Error:
      case MessageType.NickInvalid:
        if (this.login !== undefined && !this.loggedIn) {
          // The origin refused the login: the user and anything it shared leave the local directory.
          this.core.directory.removeUser(this.id);
          this.login = undefined;
          this.core.counters.inc('cache_proxy.login_refused');
        }
        break;
      default:
        break;
    }
    this.client.write(frameBytes(data));
  }

  private onUpstreamEnd(): void {
    // The origin closed its side: the client sees its session end, after what was relayed.
    if (!this.clientClosed) this.client.end();
  }

  private onUpstreamClose(): void {
    if (this.upstreamClosed) return;
    this.upstreamClosed = true;
    this.releaseLease();
    if (!this.clientClosed && !this.client.destroyed) {
      this.client.end();
      const c = this.client;
      setTimeout(() => c.destroy(), CLOSE_LINGER_MS).unref();
    }
    this.markClosed();
  }

  private failUpstream(err: UpstreamUnreachableError): void {
    if (this.upstreamClosed) return;
    this.upstreamClosed = true;
    this.upstream?.destroy();
    this.releaseLease();
    this.core.upstreamFailed(err);
    // Reset, so the client retries at once (toward the origin, after the daemon withdraws the rule).
    if (!this.client.destroyed) this.client.resetAndDestroy();
    this.markClosed();
  }

  private releaseLease(): void {
    const lease = this.lease;
    this.lease = undefined;
    if (lease === undefined) return;
    try {
      lease.release();
    } catch {
      this.core.counters.inc('cache_proxy.lease_release_failed');
    }
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.pendingUp = [];
    this.pendingUpBytes = 0;
    for (const p of this.fifo) if (p.kind === 'forward') this.core.forwardAbandoned(this, p.key);
    this.fifo.length = 0;
    this.forwardsWaiting = 0;
    this.core.directory.removeUser(this.id);
    this.memo.clear();
    this.core.sessionClosed(this);
  }
}
