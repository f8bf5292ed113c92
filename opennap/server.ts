/**
 * An OpenNap directory server (napster.txt; behaviour after the C server of
 * sbcas/opennap): users log in, share files, search them through an inverted
 * index, ask for downloads, chat and ping. It is the origin server of the
 * paper's experiment (seed 001 §5.3) and the base of the cache proxy.
 *
 * Startable (`start()` / `stop()`). Bad input never crashes it: framing
 * errors and pre-login junk close that client only, every refusal and drop is
 * counted by code in `stats().errors`, and each client's unread output,
 * partial frames and login time are bounded.
 */
import net from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { DEFAULT_MAX_DATA } from './codec.js';
import { ServerStateError } from './errors.js';
import { FileIndex } from './file-index.js';
import { ClientConnection } from './server-connection.js';
import type { CloseReason } from './server-connection.js';
import { handleFrame, removeUser } from './server-handlers.js';
import type { ServerContext } from './server-handlers.js';
import type { ServerFile } from './server-model.js';
import { QueryCache } from './server-search.js';
import { ServerCounters } from './server-stats.js';
import type { ServerStatsSnapshot } from './server-stats.js';
import { UserRegistry } from './user-registry.js';
import { listenCounted } from './listen.js';

/** Users online at once by default: far above the paper's 13 peers, low enough to bound memory (~KBs per user). */
export const DEFAULT_MAX_USERS = 10_000;

/** Connections that have not logged in yet, beyond `maxUsers`: room for logins in progress, bounded against floods. */
export const PRE_LOGIN_CONNECTION_HEADROOM = 256;

/**
 * Unread output one client may have queued. A full answer of 100 results is
 * about 15 KB, so 1 MiB holds dozens of pipelined searches; a client that
 * lets more pile up is not reading and is disconnected.
 */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** Files in the whole index by default (each costs a few hundred bytes). */
export const DEFAULT_MAX_FILES = 1_000_000;

/** A frame started but not finished within this time is a stalled or hostile client: closed. */
export const DEFAULT_PARTIAL_FRAME_TIMEOUT_MS = 30_000;

/** A connection that has not logged in within this time is closed (it holds a slot but is no user). */
export const DEFAULT_LOGIN_TIMEOUT_MS = 60_000;

/** Longest sweep period of the timeout checker; shorter when the timeouts are shorter. */
const MAX_SWEEP_MS = 1000;

export interface OpenNapServerOptions {
  host?: string;
  /** 0 picks a free port (see `address()`). */
  port?: number;
  maxUsers?: number;
  /** Largest frame data section accepted; bigger closes the client. */
  maxFrameData?: number;
  maxOutputBytesPerClient?: number;
  maxFiles?: number;
  /** Server name, used in the dummy e-mail of the login ack (`anon@<name>`, as login.c). */
  name?: string;
  partialFrameTimeoutMs?: number;
  loginTimeoutMs?: number;
  /** Closes logged-in clients silent for this long; 0 (default) never, as real clients idle for hours. */
  idleTimeoutMs?: number;
}

export class OpenNapServer {
  private readonly opts: Required<OpenNapServerOptions>;
  private readonly ctx: ServerContext;
  private readonly counters = new ServerCounters();
  private readonly connections = new Set<ClientConnection>();
  private server: Server | undefined;
  private timers: NodeJS.Timeout[] = [];
  private nextId = 1;

  constructor(options: OpenNapServerOptions = {}) {
    this.opts = {
      host: options.host ?? '0.0.0.0',
      port: options.port ?? 0,
      maxUsers: options.maxUsers ?? DEFAULT_MAX_USERS,
      maxFrameData: options.maxFrameData ?? DEFAULT_MAX_DATA,
      maxOutputBytesPerClient: options.maxOutputBytesPerClient ?? DEFAULT_MAX_OUTPUT_BYTES,
      maxFiles: options.maxFiles ?? DEFAULT_MAX_FILES,
      name: options.name ?? 'active-router',
      partialFrameTimeoutMs: options.partialFrameTimeoutMs ?? DEFAULT_PARTIAL_FRAME_TIMEOUT_MS,
      loginTimeoutMs: options.loginTimeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS,
      idleTimeoutMs: options.idleTimeoutMs ?? 0,
    };
    this.ctx = {
      name: this.opts.name,
      registry: new UserRegistry(),
      index: new FileIndex<ServerFile>(),
      counters: this.counters,
      queries: new QueryCache(this.counters),
      maxUsers: this.opts.maxUsers,
      maxFiles: this.opts.maxFiles,
      totalBytes: 0,
    };
  }

  async start(): Promise<void> {
    if (this.server !== undefined) throw new ServerStateError('OpenNap server already started');
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server = server;
    try {
      await listenCounted(server, this.opts.port, this.opts.host, () => this.counters.count('opennap.listener_error'));
    } catch (err) {
      this.server = undefined;
      throw err;
    }
    const sweepMs = Math.max(
      10,
      Math.min(MAX_SWEEP_MS, this.opts.partialFrameTimeoutMs / 4, this.opts.loginTimeoutMs / 4),
    );
    this.timers = [
      setInterval(() => this.sweep(Date.now()), sweepMs).unref(),
      setInterval(() => this.counters.tick(), 1000).unref(),
    ];
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const conn of [...this.connections]) conn.abort('opennap.server_stop');
    await closed;
  }

  /** Where the server listens. */
  address(): { host: string; port: number } {
    const addr = this.server?.address();
    if (addr === undefined || addr === null || typeof addr === 'string') {
      throw new ServerStateError('OpenNap server is not listening');
    }
    return { host: (addr as AddressInfo).address, port: (addr as AddressInfo).port };
  }

  stats(): ServerStatsSnapshot {
    return this.counters.snapshot(this.ctx.registry.size, this.ctx.index.size, this.connections.size);
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const now = Date.now();
    const conn = new ClientConnection(
      socket,
      this.nextId++,
      now,
      this.opts.maxFrameData,
      this.opts.maxOutputBytesPerClient,
      (c: ClientConnection, reason: CloseReason) => {
        if (reason !== 'opennap.server_stop') this.counters.count(reason);
        // The user and its files vanish as soon as the server gives up on the connection.
        this.release(c);
      },
    );
    socket.on('error', () => this.counters.count('opennap.socket_error'));
    socket.on('close', () => this.release(conn));
    if (this.connections.size >= this.opts.maxUsers + PRE_LOGIN_CONNECTION_HEADROOM) {
      this.counters.count('opennap.too_many_connections');
      conn.rejectAndClose('server is full');
      return;
    }
    this.connections.add(conn);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
  }

  private onData(conn: ClientConnection, chunk: Buffer): void {
    if (conn.closing) return;
    if (this.opts.idleTimeoutMs > 0) conn.lastInput = Date.now();
    conn.decoder.push(chunk);
    // Batched: the answers to every frame of this chunk leave in one write.
    conn.batch();
    try {
      for (;;) {
        const r = conn.decoder.next();
        if (r.kind === 'incomplete') break;
        if (r.kind === 'error') {
          this.counters.count('opennap.frame_too_large');
          conn.rejectAndClose(`message of ${r.length} bytes exceeds the limit of ${this.opts.maxFrameData}`);
          break;
        }
        try {
          handleFrame(this.ctx, conn, r.frame.type, r.frame.data);
        } catch {
          // A handler bug must cost one client, never the server.
          this.counters.count('opennap.handler_exception');
          conn.rejectAndClose('internal server error');
        }
        if (conn.closing) break;
      }
    } finally {
      conn.flush();
    }
    if (conn.decoder.buffered > 0) {
      if (conn.partialSince === 0) conn.partialSince = Date.now();
    } else {
      conn.partialSince = 0;
    }
  }

  private release(conn: ClientConnection): void {
    if (!this.connections.delete(conn)) return;
    if (conn.user !== undefined) removeUser(this.ctx, conn.user);
  }

  private sweep(now: number): void {
    const o = this.opts;
    for (const conn of this.connections) {
      if (conn.closing) continue;
      if (conn.partialSince !== 0 && now - conn.partialSince > o.partialFrameTimeoutMs) {
        conn.abort('opennap.partial_frame_timeout');
      } else if (conn.user === undefined && now - conn.connectedAt > o.loginTimeoutMs) {
        conn.abort('opennap.login_timeout');
      } else if (o.idleTimeoutMs > 0 && conn.user !== undefined && now - conn.lastInput > o.idleTimeoutMs) {
        conn.abort('opennap.idle_timeout');
      }
    }
  }
}
