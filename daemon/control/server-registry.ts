/**
 * The servers the router knows, each with its live metric window and the
 * recent search answers seen for it (the cache proxy's warm start), fed by
 * the analyzers' events. The state database keeps the durable record; this
 * keeps what the manager reads every tick in memory, so a tick never waits
 * on disk (the DB writer batches, up to 100 ms behind).
 */
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { AnalyzerEvent, QueryDoneEvent } from '../../analyzers/events.js';
import { ServerMetricsWindow } from '../metrics/index.js';
import type { MetricsSnapshot } from '../metrics/index.js';
import { EndpointMap } from '../endpoint-map.js';
import { memoByArray } from '../memo-by-array.js';
import { PlacementOrder } from '../../opennap/placement-order.js';
import { formatAddress } from '../state/summary.js';

/** Servers tracked at once; beyond it the least recently seen is dropped (counted). */
export const MAX_TRACKED_SERVERS = 4096;
/**
 * Client addresses remembered between two prunes (housekeeping drops those not seen within the
 * metric window every second), per server and across all servers: past either bound the server's
 * least recently seen client goes (counted), so a flood of new clients within one window cannot
 * grow the registry without bound (~60 bytes an entry: 16 MB at the total bound).
 */
export const MAX_CLIENTS_PER_SERVER = 65_536;
export const MAX_CLIENTS_TOTAL = 262_144;
/** How far a client's place in its server's map may lag its last sighting (ms of capture time). */
export const CLIENT_ORDER_SLACK_MS = 1000;

/** Distinct answered queries kept per server for the warm start (≈ a popular catalogue's keywords). */
export const MAX_WARM_ANSWERS = 4096;

/**
 * Bytes of result payloads kept for warm starts, all servers together: a
 * proxy needs the popular answers, not every answer ever seen, and a busy
 * router sees millions of results. Oldest answers go first.
 */
export const DEFAULT_WARM_BYTES = 64 * 1024 * 1024;

/**
 * Keyword sets (per server) asked once and not yet kept, remembered so that their second query's
 * results are copied: a one-off search never is. Beyond this the oldest is forgotten (~6 MB).
 */
export const MAX_ASKED_ONCE = 65_536;

/**
 * First queries of keyword sets whose results are copied anyway, per second of capture time (also
 * the burst): at a directory's usual rates every answer is kept, so a proxy started soon after the
 * router sees little traffic is still warm for the rare keywords (the paper experiment's origin
 * load after the switch: 59 % of before with admission from the second query only, 56-57 % with
 * this); under a flood of one-off searches (the live capture bench: ~6,000 new sets a second)
 * copying stays bounded and admission from the second query does the rest.
 */
export const FIRST_QUERY_COPIES_PER_S = 500;

/**
 * An answer kept for a keyword set is refreshed from traffic after this long
 * (capture time); before that the analyzers need not copy the results again.
 */
export const WARM_REFRESH_MS = 30_000;

/**
 * Answers to one keyword set seen within this long (capture time, from the oldest) are merged into
 * one warm answer. A directory never returns searchers their own files, so a captured answer lacks
 * exactly its searcher's; served alone by a proxy it hides that user's files from every client for
 * the cache's TTL (in the paper experiment up to 45 % fewer results for a popular keyword, for the
 * whole run). Answers to two different searchers together lack nothing. Bounded so the files of a
 * user who left do not live on in the union.
 */
export const WARM_MERGE_MS = WARM_REFRESH_MS;

/** What the warm start keeps per keyword set. */
interface WarmAnswer {
  /** The newest answer, its payloads merged with those of the answers before it (WARM_MERGE_MS). */
  event: QueryDoneEvent;
  /** The newest answer's searcher (IP: a user's own files are left out whatever port it searches from). */
  from: string;
  /** Capture time of the oldest answer merged in. */
  since: number;
  /** Whether answers to two different searchers are merged in, so none of the directory's files is missing. */
  complete: boolean;
  /** Its stamp in the server's `warmPlacement`. */
  stamp: number;
}

/** A kept answer in the byte bound's order across servers. */
interface WarmSlot {
  server: TrackedServer;
  key: string;
  bytes: number;
  /** Its stamp in the registry's `warmPlacement`. */
  stamp: number;
}

/** `a`'s payloads, then those of `b` that `a` does not hold (the same result is the same bytes). */
function unionPayloads(a: readonly Buffer[], b: readonly Buffer[]): Buffer[] {
  const seen = new Set(a.map((p) => p.toString('latin1')));
  const out = [...a];
  for (const p of b) {
    const text = p.toString('latin1');
    if (seen.has(text)) continue;
    seen.add(text);
    out.push(p);
  }
  return out;
}

/** One client of a server, updated in place on each sighting. */
export interface ClientSighting {
  /** Capture time of its last query, login or session open. */
  lastTs: number;
  /** Capture time it was last put at the end of its server's order. */
  placedTs: number;
  /** Its stamp in the server's `clientPlacement`. */
  stamp: number;
}

export interface TrackedServer {
  key: string;
  endpoint: Endpoint;
  protocol: string;
  learnt: 'port' | 'probe' | 'policy';
  firstSeen: number;
  lastSeen: number;
  /** Client IP → when it was last seen (query, login, session open); pruned to the metric window. */
  clients: Map<string, ClientSighting>;
  /**
   * The clients in order of their last sighting to within CLIENT_ORDER_SLACK_MS (a sighting moves a
   * client to the end once it was placed longer ago than that), oldest first: for pruning and for
   * making room (placement-order.ts: not the map's own order through `keys().next()`).
   */
  clientPlacement: PlacementOrder<string>;
  metrics: ServerMetricsWindow;
  /** keyword key → the answer kept for the warm start, oldest first (Map keeps insertion order). */
  warm: Map<string, WarmAnswer>;
  /** The order of `warm`, for taking its oldest out (placement-order.ts: not `keys().next()`). */
  warmPlacement: PlacementOrder<string>;
}

/** The keyword set's key (sorted, space-joined), once per keywords array (memo-by-array.ts). */
const keywordKey = memoByArray((keywords: readonly string[]) => [...keywords].sort().join(' '));

/** "IP:PORT" ("[v6]:PORT"), the same text the state database shows for a server. */
export function endpointText(endpoint: Endpoint): string {
  return formatAddress(endpoint.ip, endpoint.port);
}

/** "protocol:IP:PORT": one server of one protocol (the same text the daemon builds from DB rows). */
export function serverKey(protocol: string, endpoint: Endpoint): string {
  return `${protocol}:${endpointText(endpoint)}`;
}

export class ServerRegistry {
  private readonly servers = new Map<string, TrackedServer>();
  /** The same servers by protocol, ip and port: found per event without building a key string. */
  private readonly byEndpoint = new EndpointMap<TrackedServer>();
  /** Every kept answer by "serverKey keywordKey", for the byte bound across servers. */
  private readonly warmOrder = new Map<string, WarmSlot>();
  /** Its order, oldest first: with the map at its bound, `keys().next()` cost 20–70 µs an answer (placement-order.ts). */
  private readonly warmPlacement = new PlacementOrder<string>(
    (k) => this.warmOrder.get(k)?.stamp,
    () => this.warmOrder.size,
  );
  private warmBytes = 0;
  /** "serverKey keywordKey" of keyword sets asked once → stamp in `askedPlacement` (the order of age). */
  private readonly askedOnce = new Map<string, number>();
  private readonly askedPlacement = new PlacementOrder<string>(
    (k) => this.askedOnce.get(k),
    () => this.askedOnce.size,
  );
  /** Newest capture time seen. */
  private lastTs = 0;
  /** Token bucket of first-query copies (FIRST_QUERY_COPIES_PER_S), refilled by capture time. */
  private readonly firstCopyRate: number;
  private firstCopyTokens: number;
  private firstCopyRefilledAt = 0;
  evicted = 0;
  warmEvicted = 0;
  clientsEvicted = 0;
  /** N of QR for servers' metric windows (`options.queryRateN`, until a reload changes it). */
  private queryRateN: number;
  /** Clients remembered across all servers (MAX_CLIENTS_TOTAL). */
  private clientCount = 0;

  constructor(
    private readonly options: {
      queryRateN: number;
      /** 0 keeps no answers (replay). */
      warmBytes?: number;
      /** See FIRST_QUERY_COPIES_PER_S (0: only from the second query on). */
      firstQueryCopiesPerS?: number;
    },
  ) {
    this.queryRateN = options.queryRateN;
    this.firstCopyRate = options.firstQueryCopiesPerS ?? FIRST_QUERY_COPIES_PER_S;
    this.firstCopyTokens = this.firstCopyRate;
  }

  /**
   * Whether the analyzers should copy the results of this query (`AnalyzerContext.wantsResults`):
   * when the answer kept for its keyword set is stale, or none is kept and either the set was asked
   * before or the first-query budget (FIRST_QUERY_COPIES_PER_S) allows. Admission on the second query
   * keeps the copying (a tenth of the live daemon's time when every answer was copied) for the
   * answers a proxy will be asked for again.
   */
  wantsResults(protocol: string, endpoint: Endpoint, keywords: readonly string[]): boolean {
    if ((this.options.warmBytes ?? DEFAULT_WARM_BYTES) <= 0) return false;
    const server = this.find(protocol, endpoint);
    const words = keywordKey(keywords);
    const kept = server?.warm.get(words);
    if (kept !== undefined) {
      if (this.lastTs - kept.event.ts > WARM_REFRESH_MS) return true;
      // One searcher's answer lacks that searcher's files: another answer completes it (within the first-query budget).
      return !kept.complete && this.takeFirstCopy();
    }
    const asked = `${server?.key ?? serverKey(protocol, endpoint)} ${words}`;
    if (this.askedOnce.delete(asked)) return true;
    if (this.takeFirstCopy()) return true;
    if (this.askedOnce.size >= MAX_ASKED_ONCE) {
      const oldest = this.askedPlacement.takeOldest();
      if (oldest !== undefined) this.askedOnce.delete(oldest);
    }
    this.askedOnce.set(asked, this.askedPlacement.place(asked));
    return false;
  }

  /** Takes one first-query copy from the bucket, refilled for the capture time passed since the last take. */
  private takeFirstCopy(): boolean {
    const rate = this.firstCopyRate;
    if (this.lastTs > this.firstCopyRefilledAt) {
      this.firstCopyTokens = Math.min(rate, this.firstCopyTokens + ((this.lastTs - this.firstCopyRefilledAt) / 1000) * rate);
      this.firstCopyRefilledAt = this.lastTs;
    }
    if (this.firstCopyTokens < 1) return false;
    this.firstCopyTokens -= 1;
    return true;
  }

  /** Feeds one analyzer event. */
  onEvent(event: AnalyzerEvent): void {
    if (event.ts > this.lastTs) this.lastTs = event.ts;
    const server = this.touch(event.protocol, event.server, event.kind === 'server_seen' ? event.learnt : 'port', event.ts);
    switch (event.kind) {
      case 'query':
        server.metrics.recordQuery(event.ts);
        this.seeClient(server, event.client.ip, event.ts);
        return;
      case 'first_response':
        server.metrics.recordResponse(event.queryTs, event.ts);
        return;
      case 'query_done':
        if (event.resultPayloads.length > 0) this.remember(server, event);
        return;
      case 'login':
      case 'session_open':
        this.seeClient(server, event.client.ip, event.ts);
        return;
      default:
        return;
    }
  }

  /** A new N for every server's query rate, tracked now or later (a policy reload). */
  setQueryRateN(n: number): void {
    for (const server of this.servers.values()) server.metrics.setQueryRateN(n);
    this.queryRateN = n;
  }

  /** What the registry dropped to stay bounded, by stable name (only names with a count). */
  counters(): Record<string, number> {
    const all: [string, number][] = [
      ['registry.servers_evicted', this.evicted],
      ['registry.answers_evicted', this.warmEvicted],
      ['registry.clients_evicted', this.clientsEvicted],
    ];
    return Object.fromEntries(all.filter(([, n]) => n > 0));
  }

  /**
   * Forgets clients last seen at or before `beforeTs` (capture time), at every server. Each server's
   * clients are walked in placement order, so this stops at the first client placed after the cut:
   * the work is the clients forgotten plus those seen within CLIENT_ORDER_SLACK_MS of it, not all
   * clients kept.
   */
  pruneClients(beforeTs: number): void {
    for (const server of this.servers.values()) {
      const clients = server.clients;
      server.clientPlacement.walk((ip) => {
        const c = clients.get(ip)!;
        if (c.placedTs > beforeTs) return false;
        // Placed before the cut but seen since: it stays (and moves at its next sighting).
        if (c.lastTs > beforeTs) return true;
        clients.delete(ip);
        this.clientCount--;
        return true;
      });
    }
  }

  /** Clients of a server seen after `sinceTs` (capture time). */
  clientsSince(server: TrackedServer, sinceTs: number): number {
    let n = 0;
    for (const c of server.clients.values()) if (c.lastTs > sinceTs) n++;
    return n;
  }

  /** Declares a server named by the policy, before any traffic is seen. */
  declare(protocol: string, endpoint: Endpoint, ts: number): void {
    this.touch(protocol, endpoint, 'policy', ts);
  }

  get(key: string): TrackedServer | undefined {
    return this.servers.get(key);
  }

  list(): TrackedServer[] {
    return [...this.servers.values()];
  }

  snapshot(key: string, now: number, windowMs: number): MetricsSnapshot | undefined {
    return this.servers.get(key)?.metrics.snapshot(now, windowMs);
  }

  /** The answers seen for a server, oldest first, for the cache proxy's warm start. */
  warmAnswers(key: string): QueryDoneEvent[] {
    return [...(this.servers.get(key)?.warm.values() ?? [])].map((w) => w.event);
  }

  private find(protocol: string, endpoint: Endpoint): TrackedServer | undefined {
    return this.byEndpoint.get(protocol, endpoint.ip, endpoint.port);
  }

  private touch(protocol: string, endpoint: Endpoint, learnt: TrackedServer['learnt'], ts: number): TrackedServer {
    let server = this.find(protocol, endpoint);
    if (server === undefined) {
      if (this.servers.size >= MAX_TRACKED_SERVERS) this.evictOldest();
      const key = serverKey(protocol, endpoint);
      const clients = new Map<string, ClientSighting>();
      const clientPlacement = new PlacementOrder<string>(
        (ip) => clients.get(ip)?.stamp,
        () => clients.size,
      );
      const warm = new Map<string, WarmAnswer>();
      const warmPlacement = new PlacementOrder<string>(
        (k) => warm.get(k)?.stamp,
        () => warm.size,
      );
      server = {
        key, endpoint: { ip: endpoint.ip, port: endpoint.port }, protocol, learnt, firstSeen: ts, lastSeen: ts,
        clients, clientPlacement, metrics: new ServerMetricsWindow({ queryRateN: this.queryRateN }), warm, warmPlacement,
      };
      this.servers.set(key, server);
      this.byEndpoint.set(protocol, server.endpoint.ip, server.endpoint.port, server);
    } else if (server.learnt === 'policy' && learnt !== 'policy') {
      server.learnt = learnt;
    }
    if (ts > server.lastSeen) server.lastSeen = ts;
    return server;
  }

  private seeClient(server: TrackedServer, ip: string, ts: number): void {
    const clients = server.clients;
    const known = clients.get(ip);
    if (known !== undefined) {
      if (ts <= known.lastTs) return;
      known.lastTs = ts;
      // Moved to the end only once placed a second ago or more: a move on every query (then a Map
      // delete and insert) cost 2 % of the live daemon.
      if (ts - known.placedTs > CLIENT_ORDER_SLACK_MS) {
        known.placedTs = ts;
        known.stamp = server.clientPlacement.place(ip);
      }
      return;
    }
    if (clients.size >= MAX_CLIENTS_PER_SERVER || this.clientCount >= MAX_CLIENTS_TOTAL) {
      // This server's least recently seen client makes room; a server with none adds none.
      const oldest = server.clientPlacement.takeOldest();
      this.clientsEvicted++;
      if (oldest === undefined) return;
      clients.delete(oldest);
      this.clientCount--;
    }
    clients.set(ip, { lastTs: ts, placedTs: ts, stamp: server.clientPlacement.place(ip) });
    this.clientCount++;
  }

  private remember(server: TrackedServer, event: QueryDoneEvent): void {
    const cap = this.options.warmBytes ?? DEFAULT_WARM_BYTES;
    if (cap <= 0) return;
    const key = keywordKey(event.keywords);
    const globalKey = `${server.key} ${key}`;
    const from = event.client.ip;
    const prev = server.warm.get(key);
    let warm: WarmAnswer = { event, from, since: event.ts, complete: false, stamp: 0 };
    if (prev !== undefined && event.ts - prev.since <= WARM_MERGE_MS) {
      const resultPayloads = unionPayloads(event.resultPayloads, prev.event.resultPayloads);
      const merged = { ...event, resultPayloads, results: resultPayloads.length };
      warm = { event: merged, from, since: prev.since, complete: prev.complete || prev.from !== from, stamp: 0 };
    }
    this.forget(globalKey);
    const bytes = warm.event.resultPayloads.reduce((n, b) => n + b.length, 0);
    warm.stamp = server.warmPlacement.place(key);
    server.warm.set(key, warm);
    this.warmOrder.set(globalKey, { server, key, bytes, stamp: this.warmPlacement.place(globalKey) });
    this.warmBytes += bytes;
    if (server.warm.size > MAX_WARM_ANSWERS) {
      const oldest = server.warmPlacement.takeOldest();
      if (oldest !== undefined) this.forget(`${server.key} ${oldest}`);
    }
    while (this.warmBytes > cap) {
      const first = this.warmPlacement.takeOldest();
      if (first === undefined) break;
      this.forget(first);
      this.warmEvicted++;
    }
  }

  private forget(globalKey: string): void {
    const entry = this.warmOrder.get(globalKey);
    if (!entry) return;
    this.warmOrder.delete(globalKey);
    entry.server.warm.delete(entry.key);
    this.warmBytes -= entry.bytes;
  }

  private evictOldest(): void {
    let oldest: TrackedServer | undefined;
    for (const s of this.servers.values()) if (oldest === undefined || s.lastSeen < oldest.lastSeen) oldest = s;
    if (oldest !== undefined) {
      for (const key of [...oldest.warm.keys()]) this.forget(`${oldest.key} ${key}`);
      this.clientCount -= oldest.clients.size;
      this.servers.delete(oldest.key);
      this.byEndpoint.delete(oldest.protocol, oldest.endpoint.ip, oldest.endpoint.port);
      this.evicted++;
    }
  }
}
