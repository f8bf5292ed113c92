/**
 * OpenNap stream analyzer: follows one client↔server TCP flow, splits it into
 * frames (the codec's framing, opennap/codec.ts, read by frame-scanner.ts so
 * that the bytes of results it never reads are skipped, not copied), and
 * turns them into the events of section 5.2 of the core paper: queries (200)
 * and their first responses (201/202), end of results, logins, shares,
 * session open/close.
 *
 * Matching: the server answers one client's searches in order, so a 201/202
 * belongs to the oldest unanswered 200 of this flow. When the router starts
 * mid-session, responses whose query was not seen are recognised (no
 * outstanding query, or a result name that cannot match the oldest query)
 * and ignored, counted.
 */
import type { AnalyzerContext, Direction, FlowEndReason, StreamAnalyzer } from '../analyzer.js';
import { HEADER_BYTES } from '../../opennap/codec.js';
import { CLIENT_TYPES, MessageType, SERVER_TYPES } from '../../opennap/message-types.js';
import { isSearchRefusal, isValidShareFile, parseLogin } from '../../opennap/messages.js';
import { parseSearch } from '../../opennap/search-expression.js';
import { ParseCache } from '../../opennap/parse-cache.js';
import { OpenNapWeird } from './events.js';
import { FrameScanner, FrameVerdict, type FrameSink } from './frame-scanner.js';
import { findFrameBoundary, type ResyncRules } from './resync.js';

/**
 * Largest frame the analyzer accepts. Above the server's 8 KB default so a
 * server configured more generously is still followed; far below the wire's
 * 64 KB so garbage cannot make us buffer much.
 */
export const ANALYZER_MAX_DATA = 16_384;

/** Outstanding queries kept per flow; real clients keep a handful, a flood beyond this is counted. */
export const MAX_PENDING_QUERIES = 256;

/** Result payloads kept per query for the cache proxy's warm start (servers cap results at 100). */
export const MAX_RESULT_PAYLOADS = 100;

/** Highest type number any OpenNap implementation uses (extensions live in 10000–11xxx). */
export const MAX_KNOWN_TYPE = 12_000;

/** Bytes held while looking for a frame boundary before giving up and skipping them. */
export const MAX_RESYNC_BYTES = 4 * (HEADER_BYTES + 1024);

/** Bytes an unconfirmed flow may show without a frame boundary before it is judged not OpenNap. */
export const UNCONFIRMED_RESYNC_BYTES = 1024;

interface PendingQuery {
  seq: number;
  ts: number;
  keywords: string[];
  /** Whole-word check terms for results: the query's include terms. */
  firstResponseSeen: boolean;
  results: number;
  /** Null when nobody wants this query's raw results (`AnalyzerContext.wantsResults`). */
  payloads: PayloadStore | null;
  /** A search the server rejects (404 then 202): it only holds its place in the order. */
  rejected: boolean;
  /** The next younger outstanding query (PendingQueue's link). */
  next: PendingQuery | null;
}

/**
 * Outstanding queries of a flow, oldest first: a linked list through the
 * queries themselves, because most flows hold none or one and an array per
 * flow costs more than the queries (100,000 flows).
 */
class PendingQueue {
  head: PendingQuery | null = null;
  private tail: PendingQuery | null = null;
  size = 0;

  push(q: PendingQuery): void {
    q.next = null;
    if (this.tail === null) this.head = q;
    else this.tail.next = q;
    this.tail = q;
    this.size++;
  }

  shift(): void {
    const h = this.head;
    if (h === null) return;
    this.head = h.next;
    h.next = null;
    if (this.head === null) this.tail = null;
    this.size--;
  }

  /** Removes and returns the newest query `match` accepts, or null. */
  removeNewest(match: (q: PendingQuery) => boolean): PendingQuery | null {
    let found: PendingQuery | null = null;
    let before: PendingQuery | null = null;
    for (let prev: PendingQuery | null = null, q = this.head; q !== null; prev = q, q = q.next) {
      if (match(q)) {
        found = q;
        before = prev;
      }
    }
    if (found === null) return null;
    if (before === null) this.head = found.next;
    else before.next = found.next;
    if (this.tail === found) this.tail = before;
    found.next = null;
    this.size--;
    return found;
  }

  clear(): void {
    this.head = null;
    this.tail = null;
    this.size = 0;
  }
}

const EMPTY = Buffer.alloc(0);

/** Searches parsed once per distinct text, for every flow (clients repeat a few strings). */
const SEARCHES = new ParseCache(parseSearch);

/** A copy in its own allocation: kept bytes must not pin a slab of Node's shared buffer pool. */
function ownCopy(b: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(b.length);
  b.copy(copy);
  return copy;
}
const TO_SERVER_RULES: ResyncRules = { maxData: ANALYZER_MAX_DATA, allowedTypes: CLIENT_TYPES };
const TO_CLIENT_RULES: ResyncRules = { maxData: ANALYZER_MAX_DATA, allowedTypes: SERVER_TYPES };

/** One direction of the flow: its frame scanner (extended, not held, to save an object per direction) and sync state. */
class DirectionState extends FrameScanner {
  /** True while we do not know where frames start (mid-stream start, after a gap, after garbage). */
  syncing: boolean;
  resyncBuffer: Buffer = EMPTY;
  frames = 0;
  triedResync = false;

  constructor(
    readonly rules: ResyncRules,
    startSynced: boolean,
  ) {
    super();
    this.syncing = !startSynced;
  }
}

export class OpenNapAnalyzer implements StreamAnalyzer, FrameSink {
  private readonly toServer: DirectionState;
  private readonly toClient: DirectionState;
  /** The direction and capture time of the chunk being scanned (read by the FrameSink callbacks). */
  private dir: Direction = 'toServer';
  private state: DirectionState;
  private ts = 0;
  private readonly pending = new PendingQueue();
  private nextSeq = 0;
  /**
   * Set by a 201 that belongs to a query we did not see (we joined mid-session):
   * the next 202 ends that answer. An unseen query with no results at all
   * cannot be told apart from ours; that rare case times ours too early.
   */
  private unseenAnswerOpen = false;
  private sharedFiles = 0;
  private sharesChanged = false;
  private opened = false;
  private ended = false;
  private _confirmed = false;
  private _violated = false;

  constructor(private readonly ctx: AnalyzerContext) {
    // A flow we see from its first payload byte starts on a frame boundary;
    // the first frame is still checked for plausibility before trusting it.
    this.toServer = new DirectionState(TO_SERVER_RULES, true);
    this.toClient = new DirectionState(TO_CLIENT_RULES, true);
    this.state = this.toServer;
  }

  get confirmed(): boolean {
    return this._confirmed;
  }

  get violated(): boolean {
    return this._violated;
  }

  onData(dir: Direction, bytes: Buffer, ts: number): void {
    this.onDataSpan(dir, bytes, 0, bytes.length, ts);
  }

  onDataSpan(dir: Direction, bytes: Buffer, start: number, end: number, ts: number): void {
    if (this.ended || this._violated || end <= start) return;
    if (!this.opened) {
      this.opened = true;
      this.ctx.emit({ kind: 'session_open', protocol: 'opennap', server: this.ctx.flow.server, client: this.ctx.flow.client, ts });
    }
    const state = dir === 'toServer' ? this.toServer : this.toClient;
    this.dir = dir;
    this.state = state;
    this.ts = ts;
    // In sync (nearly always) the scanner reads the span in place; the rarer paths work on views.
    let todo: Buffer | null;
    if (state.syncing) {
      todo = this.resync(state, bytes.subarray(start, end));
    } else {
      const rejected = state.push(bytes, this, start, end);
      todo = rejected === null ? null : this.misframed(state, rejected);
    }
    while (todo !== null && !this._violated) {
      const rejected = state.push(todo, this);
      todo = rejected === null ? null : this.misframed(state, rejected);
    }
    if (this.sharesChanged) {
      this.sharesChanged = false;
      this.ctx.emit({ kind: 'shares', protocol: 'opennap', server: this.ctx.flow.server, client: this.ctx.flow.client, files: this.sharedFiles, ts });
    }
  }

  onGap(dir: Direction, _length: number, _ts: number): void {
    if (this.ended || this._violated) return;
    this.ctx.count(OpenNapWeird.gap);
    const state = dir === 'toServer' ? this.toServer : this.toClient;
    state.reset();
    state.syncing = true;
    state.resyncBuffer = EMPTY;
    // The lost bytes may have held responses: outstanding queries can no longer be matched safely.
    if (dir === 'toClient') this.pending.clear();
  }

  onEnd(ts: number, _reason: FlowEndReason): void {
    if (this.ended) return;
    this.ended = true;
    if (this.opened && this._confirmed) {
      this.ctx.emit({ kind: 'session_close', protocol: 'opennap', server: this.ctx.flow.server, client: this.ctx.flow.client, ts });
    }
    this.pending.clear();
  }

  /** Looks for a frame boundary; returns the bytes from it on (and leaves resync mode), or null while none is found. */
  private resync(state: DirectionState, bytes: Buffer): Buffer | null {
    const buf = state.resyncBuffer.length ? Buffer.concat([state.resyncBuffer, bytes]) : bytes;
    const at = findFrameBoundary(buf, state.rules);
    if (at < 0) {
      if (!this._confirmed && buf.length > UNCONFIRMED_RESYNC_BYTES) {
        // Never confirmed and no frame boundary in a kilobyte: this flow is not OpenNap.
        this._violated = true;
        state.resyncBuffer = EMPTY;
        return null;
      }
      if (buf.length > MAX_RESYNC_BYTES) {
        // Keep only a tail that could still hold the start of a header.
        const keep = HEADER_BYTES * 2;
        this.ctx.count(OpenNapWeird.resyncSkippedBytes, buf.length - keep);
        state.resyncBuffer = ownCopy(buf.subarray(buf.length - keep));
        this.ctx.count(OpenNapWeird.resyncFailed);
      } else {
        state.resyncBuffer = ownCopy(buf);
      }
      return null;
    }
    if (at > 0) this.ctx.count(OpenNapWeird.resyncSkippedBytes, at);
    this.ctx.count(OpenNapWeird.resynced);
    state.syncing = false;
    state.resyncBuffer = EMPTY;
    state.reset();
    return buf.subarray(at);
  }

  /** FrameSink: judges a header the moment it is complete (waiting for the data of a bogus one could stall 16 KB). */
  frameHeader(type: number, length: number): FrameVerdict {
    if (length > ANALYZER_MAX_DATA) {
      this.ctx.count(OpenNapWeird.frameTooLarge);
      return FrameVerdict.reject;
    }
    if (!this.typeAllowed(this.state, type)) {
      this.ctx.count(OpenNapWeird.unexpectedType);
      return FrameVerdict.reject;
    }
    return this.wantsData(type) ? FrameVerdict.keep : FrameVerdict.skip;
  }

  /**
   * Whether a frame's bytes are read: requests, logins and shares from the
   * client; from the server only a result the oldest query still has to be
   * matched against, or whose payload the warm-start store wants. Every other
   * result only counts, so its bytes are never copied.
   */
  private wantsData(type: number): boolean {
    if (this.dir === 'toServer') {
      return type === MessageType.Search || type === MessageType.Login || type === MessageType.NewUserLogin || type === MessageType.ShareFile;
    }
    // A 404 is read to tell a refusal (no 202 follows) from an error a 202 follows; 404s are rare.
    if (type === MessageType.GeneralError) return true;
    if (type !== MessageType.SearchResult) return false;
    const head = this.pending.head;
    return head !== null && !head.rejected && (!head.firstResponseSeen || head.payloads !== null);
  }

  /** FrameSink: one complete frame of the chunk being scanned. */
  frame(type: number, buf: Buffer | null, start: number, end: number): void {
    this.state.frames++;
    // The capture time is read (this.ts) only where an event is emitted: a double passed down every
    // frame's calls is a fresh heap number per call, most of this path's allocation (BENCHMARKS.md).
    if (!this._confirmed) this.maybeConfirm();
    if (this.dir === 'toServer') this.onClientFrame(type, buf, start, end);
    else this.onServerFrame(type, buf, start, end);
  }

  private typeAllowed(state: DirectionState, type: number): boolean {
    // The cheap test first: once confirmed it answers nearly every frame without a set lookup.
    return this.isRelayedType(type) || state.rules.allowedTypes.has(type);
  }

  /**
   * Once confirmed, types outside our direction tables are accepted too: real
   * servers and clients exchange many more (channels, hotlists, OpenNap's
   * 10xxx extensions). The bound only catches framing that went astray.
   */
  private isRelayedType(type: number): boolean {
    return this._confirmed && type <= MAX_KNOWN_TYPE;
  }

  /**
   * A frame header that makes no sense (`rest` is the bytes from it on):
   * before confirmation the flow is not OpenNap; after, we lost the framing.
   * Returns bytes to go on scanning from when a boundary was found at once.
   */
  private misframed(state: DirectionState, rest: Buffer): Buffer | null {
    if (state.frames === 0 && !state.triedResync) {
      // The first bytes of a direction may be the middle of a frame (we joined
      // an existing session): look for a boundary once before judging.
      state.triedResync = true;
      state.reset();
      state.syncing = true;
      state.resyncBuffer = EMPTY;
      // Skip the first byte: offset 0 was just judged implausible.
      return rest.length > 1 ? this.resync(state, rest.subarray(1)) : null;
    }
    if (!this._confirmed) {
      this._violated = true;
      return null;
    }
    state.reset();
    state.syncing = true;
    state.resyncBuffer = EMPTY;
    return null;
  }

  /** Called per frame until confirmed (the caller checks `_confirmed`). */
  private maybeConfirm(): void {
    const { toServer, toClient } = this;
    if ((toServer.frames >= 1 && toClient.frames >= 1) || toServer.frames >= 2 || toClient.frames >= 2) {
      this._confirmed = true;
      this.ctx.count(OpenNapWeird.confirmed);
      this.ctx.emit({ kind: 'server_seen', protocol: 'opennap', server: this.ctx.flow.server, learnt: this.ctx.learnt, ts: this.ts });
    }
  }

  private onClientFrame(type: number, buf: Buffer | null, start: number, end: number): void {
    // A removal needs no bytes, and one split across segments arrives without them (wantsData).
    if (type === MessageType.RemoveFile) {
      if (this.sharedFiles > 0) {
        this.sharedFiles--;
        this.sharesChanged = true;
      }
      return;
    }
    // The other requests read here arrive with their bytes (wantsData).
    if (buf === null) return;
    switch (type) {
      case MessageType.Search:
        this.onSearch(buf.toString('latin1', start, end));
        return;
      case MessageType.Login:
      case MessageType.NewUserLogin: {
        const login = parseLogin(buf.toString('latin1', start, end));
        if (login.kind === 'error') {
          this.ctx.count(OpenNapWeird.badLogin);
          return;
        }
        this.ctx.emit({ kind: 'login', protocol: 'opennap', server: this.ctx.flow.server, client: this.ctx.flow.client, nick: login.value.nick, ts: this.ts });
        return;
      }
      case MessageType.ShareFile:
        if (isValidShareFile(buf, start, end)) {
          this.sharedFiles++;
          this.sharesChanged = true;
        }
        return;
      default:
        return;
    }
  }

  private onSearch(text: string): void {
    const ts = this.ts;
    const parsed = SEARCHES.parse(text);
    if (parsed.kind === 'error') {
      // The C server answers an unreadable search with a 404 error and then a
      // 202 (search.c): queue a placeholder so that 202 is not taken for the
      // answer to the next query, but time nothing for it.
      this.ctx.count(OpenNapWeird.badSearch);
      this.enqueue({ seq: -1, ts, keywords: [], firstResponseSeen: true, results: 0, payloads: null, rejected: true, next: null });
      return;
    }
    const query: PendingQuery = {
      seq: this.nextSeq++,
      ts,
      keywords: parsed.query.include,
      firstResponseSeen: false,
      results: 0,
      payloads: this.ctx.wantsResults?.(parsed.query.include) === false ? null : new PayloadStore(),
      rejected: false,
      next: null,
    };
    this.enqueue(query);
    this.ctx.emit({
      kind: 'query', protocol: 'opennap', server: this.ctx.flow.server, client: this.ctx.flow.client,
      seq: query.seq, keywords: query.keywords, maxResults: parsed.query.maxResults, ts,
    });
  }

  private enqueue(query: PendingQuery): void {
    if (this.pending.size >= MAX_PENDING_QUERIES) {
      this.pending.shift();
      this.ctx.count(OpenNapWeird.pendingOverflow);
    }
    this.pending.push(query);
  }

  private onServerFrame(type: number, buf: Buffer | null, start: number, end: number): void {
    if (type === MessageType.GeneralError) {
      // No 202 comes for a refused search: drop it from the order, untimed (a refusal is not a search
      // answer). It is the newest one not yet answered (see OpenNapClient.refuseNewestSearch).
      if (buf !== null && isSearchRefusal(buf.toString('latin1', start, end))) {
        if (this.pending.removeNewest((q) => !q.firstResponseSeen && !q.rejected) !== null) this.ctx.count(OpenNapWeird.searchRefused);
      }
      return;
    }
    if (type !== MessageType.SearchResult && type !== MessageType.SearchEnd) return;
    const head = this.pending.head;
    if (head === null) {
      this.ctx.count(OpenNapWeird.responseWithoutQuery);
      return;
    }
    if (type === MessageType.SearchResult) {
      // Only the first result of a query is checked against it: later ones follow in order. A first
      // result without bytes began before that query was at the head (so cannot answer it).
      if (head.rejected || (!head.firstResponseSeen && (buf === null || !resultMatches(buf, start, end, head.keywords)))) {
        // A result for an earlier query we never saw: not ours to time.
        this.ctx.count(OpenNapWeird.responseMismatch);
        this.unseenAnswerOpen = true;
        return;
      }
      if (!head.firstResponseSeen) this.firstResponse(head);
      head.results++;
      if (buf !== null) head.payloads?.add(buf, start, end);
      return;
    }
    if (this.unseenAnswerOpen) {
      // This 202 closes the answer to the query we never saw, not ours.
      this.unseenAnswerOpen = false;
      this.ctx.count(OpenNapWeird.responseWithoutQuery);
      return;
    }
    this.pending.shift();
    if (head.rejected) return;
    const ts = this.ts;
    if (!head.firstResponseSeen) this.firstResponse(head);
    this.ctx.emit({
      kind: 'query_done', protocol: 'opennap', server: this.ctx.flow.server, client: this.ctx.flow.client,
      seq: head.seq, queryTs: head.ts, results: head.results, resultPayloads: head.payloads?.views() ?? [], keywords: head.keywords, ts,
    });
  }

  /** Emits the first response of `q` (not yet seen), at the time of the chunk being scanned. */
  private firstResponse(q: PendingQuery): void {
    q.firstResponseSeen = true;
    this.ctx.emit({ kind: 'first_response', protocol: 'opennap', server: this.ctx.flow.server, client: this.ctx.flow.client, seq: q.seq, queryTs: q.ts, ts: this.ts });
  }
}

/**
 * Does a 201's file name (its first, quoted field) contain every keyword of
 * the query (case-insensitive substring, as lenient as real servers)? Reads
 * the name straight from the bytes: this runs once per query, on the hot path.
 */
export function resultMatches(buf: Buffer, start: number, end: number, keywords: readonly string[]): boolean {
  if (keywords.length === 0) return true;
  // A byte loop, not subarray and indexOf: a file name is short, and those calls cost more than the scan.
  let from = start;
  let to = start;
  if (start < end && buf[start] === 0x22) {
    // The quoted name ends at `" ` (a quote inside the name is allowed).
    from = to = start + 1;
    while (to + 1 < end && !(buf[to] === 0x22 && buf[to + 1] === 0x20)) to++;
    if (to + 1 >= end) to = end;
  } else {
    while (to < end && buf[to] !== 0x20) to++;
  }
  const lower = buf.toString('latin1', from, to).toLowerCase();
  return keywords.every((k) => lower.includes(k));
}

/**
 * First size of a query's payload buffer: ~30 results of ~130 bytes, more than most answers hold,
 * so a query copying its results usually allocates once. Growing from 256 bytes took five
 * allocations per answer and 5 % of the live daemon's time.
 */
export const INITIAL_PAYLOAD_BYTES = 4096;

/**
 * The 201 payloads of one query, copied out of the capture buffer into one
 * growing buffer (one allocation per query instead of one per result; the
 * capture reuses its buffers, so views would not survive). The views handed
 * out at the end share one buffer at most twice their size (a larger one is
 * trimmed first), so what the warm-start store counts is what it holds.
 */
class PayloadStore {
  private buf: Buffer | undefined;
  private used = 0;
  private readonly ends: number[] = [];

  add(buf: Buffer, start: number, end: number): void {
    if (this.ends.length >= MAX_RESULT_PAYLOADS) return;
    const need = this.used + (end - start);
    if (this.buf === undefined || need > this.buf.length) {
      // Unpooled: these live until the query is answered, and a pooled slice would pin an 8 KB slab.
      const grown = Buffer.allocUnsafeSlow(Math.max(need, this.buf === undefined ? INITIAL_PAYLOAD_BYTES : this.buf.length * 2));
      this.buf?.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    buf.copy(this.buf, this.used, start, end);
    this.used = need;
    this.ends.push(need);
  }

  views(): Buffer[] {
    const out: Buffer[] = [];
    if (this.buf !== undefined && this.used * 2 < this.buf.length) {
      const exact = Buffer.allocUnsafeSlow(this.used);
      this.buf.copy(exact, 0, 0, this.used);
      this.buf = exact;
    }
    let start = 0;
    for (const end of this.ends) {
      out.push(this.buf!.subarray(start, end));
      start = end;
    }
    return out;
  }
}
