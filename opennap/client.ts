/**
 * An OpenNap client (napster.txt §2): connect, log in, share, search with
 * many searches outstanding, ask for downloads, chat, ping. Used by the peer
 * workload, the CLI, the benchmark, and as the upstream side of the cache
 * proxy (`sendRaw` / `onFrame` relay frames untouched).
 *
 * Search answers are matched by order: a server answers one client's
 * searches in the order it sent them (seed 001 §5.2), so a 201/202 belongs to
 * the oldest search still open. A search that times out stays in the queue,
 * marked abandoned, so its late answer is absorbed and not mistaken for the
 * next search's.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Socket } from 'node:net';
import { FrameDecoder, WIRE_MAX_DATA, encodeFrame, encodeFrames } from './codec.js';
import {
  ConnectionClosedError,
  DownloadUnavailableError,
  LoginRejectedError,
  NotConnectedError,
  RequestTimeoutError,
  ServerProtocolError,
  TooManyPendingError,
} from './errors.js';
import { MessageType } from './message-types.js';
import {
  buildFileRef,
  buildLogin,
  buildShareFile,
  dataText,
  isSearchRefusal,
  parseDownloadAck,
  parseFileRef,
  parsePrivateMessage,
  parseSearchResult,
  parseServerStats,
} from './messages.js';
import type { DownloadAck, PrivateMessage, SearchResult, ServerStats, SharedFile } from './messages.js';
import { serializeSearch } from './search-expression.js';
import type { SearchQuery } from './search-expression.js';

/**
 * Searches one client may have open at once (including abandoned ones whose
 * answer has not come yet). Real clients keep one or two; the benchmark 16.
 */
export const MAX_PENDING_SEARCHES = 4096;

/** Default wait for a search's 202. */
export const DEFAULT_SEARCH_TIMEOUT_MS = 10_000;

/** Default wait for login, download ack, stats, pong. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface ConnectOptions {
  host: string;
  port: number;
  localAddress?: string;
  localPort?: number;
  timeoutMs?: number;
}

export interface LoginOptions {
  nick: string;
  password: string;
  /** Data port; 0 = firewalled. */
  port: number;
  clientInfo: string;
  linkType: number;
  /** Log in with 6 (new-user login, with an e-mail) instead of 2. */
  newUser?: boolean;
  email?: string;
  timeoutMs?: number;
}

export interface SearchOptions {
  timeoutMs?: number;
}

export interface SearchOutcome {
  results: SearchResult[];
  /** ms since the epoch of the first 201 (or of the 202 when there were none); null on timeout with nothing. */
  firstResultAt: number | null;
  sentAt: number;
  endedBy: 'end' | 'timeout';
  /** 201 lines that did not parse. */
  malformed: number;
  /** 404 texts the server sent about this search (e.g. an unreadable expression). */
  errors: string[];
}

export interface OpenNapClientOptions {
  /** Largest frame accepted from the server; the wire's own maximum by default. */
  maxFrameData?: number;
  /** Answer 751 pings with 752 (default true), as real clients do. */
  autoPong?: boolean;
  /** Called with every frame received, before the client handles it (a copy of the data). */
  onFrame?: (type: number, data: Buffer) => void;
}

interface PendingSearch {
  sentAt: number;
  firstResultAt: number | null;
  results: SearchResult[];
  malformed: number;
  errors: string[];
  abandoned: boolean;
  timer: NodeJS.Timeout | undefined;
  finish: (outcome: SearchOutcome) => void;
  fail: (err: Error) => void;
  onResult: ((r: SearchResult) => void) | undefined;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface DownloadWaiter extends Waiter<DownloadAck> {
  nick: string;
  filename: string;
}

function toSearchData(query: SearchQuery | string): string {
  return typeof query === 'string' ? query : serializeSearch(query);
}

export class OpenNapClient extends EventEmitter {
  onFrame: ((type: number, data: Buffer) => void) | undefined;
  private socket: Socket | undefined;
  private decoder: FrameDecoder;
  private readonly autoPong: boolean;
  private readonly searches: PendingSearch[] = [];
  private searchHead = 0;
  private login$: Waiter<string> | undefined;
  private readonly downloads: DownloadWaiter[] = [];
  private readonly statsWaiters: Waiter<ServerStats>[] = [];
  private readonly pingWaiters = new Map<string, Waiter<number>[]>();
  private closed = false;
  private closeHandled = false;
  /** 201/202 frames that arrived with no search open. */
  unmatchedResults = 0;

  constructor(options: OpenNapClientOptions = {}) {
    super();
    this.decoder = new FrameDecoder(options.maxFrameData ?? WIRE_MAX_DATA);
    this.autoPong = options.autoPong ?? true;
    this.onFrame = options.onFrame;
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.closed;
  }

  /** Searches sent and not yet answered (abandoned ones included). */
  get pendingSearches(): number {
    return this.searches.length - this.searchHead;
  }

  connect(opts: ConnectOptions): Promise<void> {
    if (this.socket !== undefined) return Promise.reject(new NotConnectedError('client already connected; use a new client'));
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: opts.host, port: opts.port, localAddress: opts.localAddress, localPort: opts.localPort });
      this.socket = socket;
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RequestTimeoutError(`connect to ${opts.host}:${opts.port}`, opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS));
      }, opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        this.closed = true;
        reject(err);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        socket.on('error', (err) => this.emit('socketError', err));
        socket.on('data', (chunk: Buffer) => this.onData(chunk));
        socket.on('close', () => this.onClose());
        resolve();
      });
    });
  }

  /** Logs in; resolves with the e-mail of the 3 ack, rejects with LoginRejectedError on 0 or 10. */
  login(opts: LoginOptions): Promise<string> {
    const type = opts.newUser === true ? MessageType.NewUserLogin : MessageType.Login;
    const email = opts.newUser === true ? (opts.email ?? `${opts.nick}@example.invalid`) : opts.email;
    const data = buildLogin({ nick: opts.nick, password: opts.password, port: opts.port, clientInfo: opts.clientInfo, linkType: opts.linkType, ...(email !== undefined ? { email } : {}) });
    return new Promise<string>((resolve, reject) => {
      if (!this.write(encodeFrame(type, data), reject)) return;
      const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      const timer = setTimeout(() => {
        this.login$ = undefined;
        reject(new RequestTimeoutError('login', timeoutMs));
      }, timeoutMs);
      this.login$ = { resolve, reject, timer };
    });
  }

  /** Shares files, all 100 messages in one write. */
  share(files: readonly SharedFile[]): void {
    if (files.length === 0) return;
    this.writeOrThrow(encodeFrames(files.map((f) => ({ type: MessageType.ShareFile, data: buildShareFile(f) }))));
  }

  unshare(filename: string): void {
    this.writeOrThrow(encodeFrame(MessageType.RemoveFile, filename));
  }

  /** Sends one search; resolves on its 202, or on its timeout with what came so far. */
  search(query: SearchQuery | string, opts: SearchOptions = {}): Promise<SearchOutcome> {
    return new Promise<SearchOutcome>((resolve, reject) => this.startSearch(query, opts, resolve, reject, undefined));
  }

  /** The same search as an async iterator of its results, as they arrive. */
  async *searchIter(query: SearchQuery | string, opts: SearchOptions = {}): AsyncGenerator<SearchResult, SearchOutcome> {
    const buffered: SearchResult[] = [];
    let wake: (() => void) | undefined;
    let outcome: SearchOutcome | undefined;
    let failure: Error | undefined;
    const poke = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    this.startSearch(
      query,
      opts,
      (o) => {
        outcome = o;
        poke();
      },
      (err) => {
        failure = err;
        poke();
      },
      (r) => {
        buffered.push(r);
        poke();
      },
    );
    for (;;) {
      while (buffered.length > 0) yield buffered.shift() as SearchResult;
      if (failure !== undefined) throw failure;
      if (outcome !== undefined) return outcome;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  }

  /** 203: resolves with the 204 (where to fetch the file) or rejects with DownloadUnavailableError on 206. */
  downloadRequest(nick: string, filename: string, opts: { timeoutMs?: number } = {}): Promise<DownloadAck> {
    return new Promise<DownloadAck>((resolve, reject) => {
      if (!this.write(encodeFrame(MessageType.DownloadRequest, buildFileRef({ nick, filename })), reject)) return;
      const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      const waiter: DownloadWaiter = {
        nick,
        filename,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.downloads.indexOf(waiter);
          if (i >= 0) this.downloads.splice(i, 1);
          reject(new RequestTimeoutError(`download request ${nick} "${filename}"`, timeoutMs));
        }, timeoutMs),
      };
      this.downloads.push(waiter);
    });
  }

  /** 500: asks the firewalled sharer to push the file; the server answers only on failure (206, as a 'message'). */
  pushRequest(nick: string, filename: string): void {
    this.writeOrThrow(encodeFrame(MessageType.AltDownloadRequest, buildFileRef({ nick, filename })));
  }

  privateMessage(nick: string, text: string): void {
    this.writeOrThrow(encodeFrame(MessageType.PrivateMessage, `${nick} ${text}`));
  }

  /** 214: resolves with the next server stats message. */
  serverStats(opts: { timeoutMs?: number } = {}): Promise<ServerStats> {
    return new Promise<ServerStats>((resolve, reject) => {
      if (!this.write(encodeFrame(MessageType.ServerStats), reject)) return;
      const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      const waiter: Waiter<ServerStats> = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.statsWaiters.indexOf(waiter);
          if (i >= 0) this.statsWaiters.splice(i, 1);
          reject(new RequestTimeoutError('server stats', timeoutMs));
        }, timeoutMs),
      };
      this.statsWaiters.push(waiter);
    });
  }

  /** 751: resolves with the round trip in ms when `nick` answers 752. */
  ping(nick: string, opts: { timeoutMs?: number } = {}): Promise<number> {
    const sentAt = Date.now();
    return new Promise<number>((resolve, reject) => {
      if (!this.write(encodeFrame(MessageType.PingUser, nick), reject)) return;
      const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      const list = this.pingWaiters.get(nick) ?? [];
      const waiter: Waiter<number> = {
        resolve: () => resolve(Date.now() - sentAt),
        reject,
        timer: setTimeout(() => {
          const i = list.indexOf(waiter);
          if (i >= 0) list.splice(i, 1);
          reject(new RequestTimeoutError(`ping ${nick}`, timeoutMs));
        }, timeoutMs),
      };
      list.push(waiter);
      this.pingWaiters.set(nick, list);
    });
  }

  /** Sends any frame as is (the proxy relays frames it does not interpret). */
  sendRaw(type: number, data: string | Buffer = ''): void {
    this.writeOrThrow(encodeFrame(type, data));
  }

  /** Closes the connection; everything still waiting is rejected with ConnectionClosedError. */
  close(): Promise<void> {
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) {
      this.onClose();
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  // ── internals ──────────────────────────────────────────────────────────

  private write(bytes: Buffer, reject: (err: Error) => void): boolean {
    if (this.socket === undefined || this.closed) {
      reject(new NotConnectedError());
      return false;
    }
    this.socket.write(bytes);
    return true;
  }

  private writeOrThrow(bytes: Buffer): void {
    if (this.socket === undefined || this.closed) throw new NotConnectedError();
    this.socket.write(bytes);
  }

  private startSearch(
    query: SearchQuery | string,
    opts: SearchOptions,
    finish: (o: SearchOutcome) => void,
    fail: (err: Error) => void,
    onResult: ((r: SearchResult) => void) | undefined,
  ): void {
    if (this.pendingSearches >= MAX_PENDING_SEARCHES) {
      fail(new TooManyPendingError(MAX_PENDING_SEARCHES));
      return;
    }
    const sentAt = Date.now();
    if (!this.write(encodeFrame(MessageType.Search, toSearchData(query)), fail)) return;
    const entry: PendingSearch = {
      sentAt,
      firstResultAt: null,
      results: [],
      malformed: 0,
      errors: [],
      abandoned: false,
      timer: undefined,
      finish,
      fail,
      onResult,
    };
    const timeoutMs = opts.timeoutMs ?? DEFAULT_SEARCH_TIMEOUT_MS;
    entry.timer = setTimeout(() => {
      entry.abandoned = true;
      finish(this.outcome(entry, 'timeout'));
    }, timeoutMs);
    this.searches.push(entry);
  }

  private outcome(e: PendingSearch, endedBy: 'end' | 'timeout'): SearchOutcome {
    return { results: e.results, firstResultAt: e.firstResultAt, sentAt: e.sentAt, endedBy, malformed: e.malformed, errors: e.errors };
  }

  private oldestSearch(): PendingSearch | undefined {
    return this.searches[this.searchHead];
  }

  private shiftSearch(): void {
    this.searches[this.searchHead] = undefined as unknown as PendingSearch;
    this.searchHead++;
    // Compact now and then so the array does not grow with every search ever sent.
    if (this.searchHead > 1024 && this.searchHead * 2 > this.searches.length) {
      this.searches.splice(0, this.searchHead);
      this.searchHead = 0;
    }
  }

  /**
   * Ends the newest search that has no answer yet with a refusal. The C
   * server refuses a search the moment it arrives, when it already holds
   * `max_searches` of this client's searches waiting on linked servers; the
   * held (older) ones are answered later, so the refused one is the newest
   * unanswered. A lone server answers every search at once and never refuses.
   */
  private refuseNewestSearch(text: string): boolean {
    for (let i = this.searches.length - 1; i >= this.searchHead; i--) {
      const s = this.searches[i]!;
      if (s.results.length > 0 || s.firstResultAt !== null) continue;
      if (i === this.searchHead) this.shiftSearch();
      else this.searches.splice(i, 1);
      s.errors.push(text);
      if (!s.abandoned) {
        clearTimeout(s.timer);
        s.firstResultAt = Date.now();
        s.finish(this.outcome(s, 'end'));
      }
      return true;
    }
    return false;
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      const r = this.decoder.next();
      if (r.kind === 'incomplete') return;
      if (r.kind === 'error') {
        this.emit('protocolError', new ServerProtocolError(`server frame of ${r.length} bytes exceeds the limit`));
        this.socket?.destroy();
        return;
      }
      const { type, data } = r.frame;
      if (this.onFrame !== undefined) this.onFrame(type, Buffer.from(data));
      this.handleFrame(type, data);
    }
  }

  private handleFrame(type: number, data: Buffer): void {
    switch (type) {
      case MessageType.SearchResult:
        this.onSearchResult(data);
        return;
      case MessageType.SearchEnd:
        this.onSearchEnd();
        return;
      case MessageType.LoginAck:
        if (this.login$ !== undefined) {
          const w = this.login$;
          this.login$ = undefined;
          clearTimeout(w.timer);
          w.resolve(dataText(data));
          return;
        }
        break;
      case MessageType.Error:
      case MessageType.NickInvalid:
        if (this.login$ !== undefined) {
          const w = this.login$;
          this.login$ = undefined;
          clearTimeout(w.timer);
          w.reject(new LoginRejectedError(type === MessageType.NickInvalid ? 'invalid nick' : dataText(data)));
          return;
        }
        break;
      case MessageType.GeneralError: {
        const text = dataText(data);
        // A refusal comes without a 202: it ends a search, or every later answer would be one off.
        if (isSearchRefusal(text) && this.refuseNewestSearch(text)) break;
        // search.c answers an unreadable search with 404 then 202: keep the text with that search.
        this.oldestSearch()?.errors.push(text);
        break;
      }
      case MessageType.DownloadAck:
        if (this.onDownloadAck(data)) return;
        break;
      case MessageType.DownloadError:
        if (this.onDownloadError(data)) return;
        break;
      case MessageType.ServerStats: {
        const w = this.statsWaiters.shift();
        if (w !== undefined) {
          clearTimeout(w.timer);
          const parsed = parseServerStats(dataText(data));
          if (parsed.kind === 'ok') w.resolve(parsed.value);
          else w.reject(new ServerProtocolError(parsed.message));
          return;
        }
        break;
      }
      case MessageType.PrivateMessage: {
        const parsed = parsePrivateMessage(dataText(data));
        if (parsed.kind === 'ok') this.emit('privateMessage', parsed.value satisfies PrivateMessage);
        break;
      }
      case MessageType.PingUser:
        if (this.autoPong && !this.closed) this.socket?.write(encodeFrame(MessageType.PongUser, dataText(data)));
        break;
      case MessageType.PongUser: {
        const list = this.pingWaiters.get(dataText(data));
        const w = list?.shift();
        if (w !== undefined) {
          clearTimeout(w.timer);
          w.resolve(0);
          return;
        }
        break;
      }
      default:
        break;
    }
    // The copy outlives the decoder's buffer; nobody listening, nothing to copy.
    if (this.listenerCount('message') > 0) this.emit('message', { type, data: Buffer.from(data) });
  }

  private onSearchResult(data: Buffer): void {
    const head = this.oldestSearch();
    if (head === undefined) {
      this.unmatchedResults++;
      return;
    }
    if (head.firstResultAt === null) head.firstResultAt = Date.now();
    if (head.abandoned) return;
    const parsed = parseSearchResult(dataText(data));
    if (parsed.kind === 'error') {
      head.malformed++;
      return;
    }
    head.results.push(parsed.value);
    head.onResult?.(parsed.value);
  }

  private onSearchEnd(): void {
    const head = this.oldestSearch();
    if (head === undefined) {
      this.unmatchedResults++;
      return;
    }
    this.shiftSearch();
    if (head.abandoned) return;
    clearTimeout(head.timer);
    // No 201 at all: the 202 is the first (and only) response packet.
    if (head.firstResultAt === null) head.firstResultAt = Date.now();
    head.finish(this.outcome(head, 'end'));
  }

  private takeDownload(nick: string, filename: string): DownloadWaiter | undefined {
    let i = this.downloads.findIndex((w) => w.nick === nick && w.filename === filename);
    if (i < 0 && this.downloads.length > 0) i = 0;
    if (i < 0) return undefined;
    const [w] = this.downloads.splice(i, 1);
    if (w !== undefined) clearTimeout(w.timer);
    return w;
  }

  private onDownloadAck(data: Buffer): boolean {
    const parsed = parseDownloadAck(dataText(data));
    if (parsed.kind === 'error') return false;
    const w = this.takeDownload(parsed.value.nick, parsed.value.filename);
    if (w === undefined) return false;
    w.resolve(parsed.value);
    return true;
  }

  private onDownloadError(data: Buffer): boolean {
    const parsed = parseFileRef(dataText(data));
    if (parsed.kind === 'error') return false;
    const w = this.takeDownload(parsed.value.nick, parsed.value.filename);
    if (w === undefined) return false;
    w.reject(new DownloadUnavailableError(parsed.value.nick, parsed.value.filename));
    return true;
  }

  private onClose(): void {
    if (this.closeHandled) return;
    this.closeHandled = true;
    this.closed = true;
    const err = (): ConnectionClosedError => new ConnectionClosedError();
    if (this.login$ !== undefined) {
      clearTimeout(this.login$.timer);
      this.login$.reject(err());
      this.login$ = undefined;
    }
    for (let i = this.searchHead; i < this.searches.length; i++) {
      const s = this.searches[i]!;
      clearTimeout(s.timer);
      if (!s.abandoned) s.fail(err());
    }
    this.searches.length = 0;
    this.searchHead = 0;
    for (const w of this.downloads.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err());
    }
    for (const w of this.statsWaiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err());
    }
    for (const list of this.pingWaiters.values()) {
      for (const w of list.splice(0)) {
        clearTimeout(w.timer);
        w.reject(err());
      }
    }
    this.emit('close');
  }
}
