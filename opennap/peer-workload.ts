/**
 * The peers of the paper's experiment (seed 001 §5.3): N OpenNap clients that
 * each log in, share their part of one group's files of the catalogue, and
 * search at a fixed rate for one keyword drawn from a Zipf-like popularity.
 * Every search becomes one line of the search log (search-log.ts).
 *
 * A peer whose connection drops reconnects at once, logs in again and shares
 * again: when the active router redirects a server's clients to its cache
 * proxy, their connections are reset and they must come back (the paper's
 * peers re-establish their connections and land on the proxy).
 */
import { assignFilesToPeers, filesOfGroup, KeywordPicker, paperCatalogue } from './catalogue.js';
import type { CatalogueFile, Group } from './catalogue.js';
import { OpenNapClient } from './client.js';
import { LoginRejectedError, WorkloadOptionError } from './errors.js';
import type { SharedFile } from './messages.js';
import { Random } from './random.js';
import { serializeSearch } from './search-expression.js';
import { SearchLogWriter } from './search-log.js';
import type { SearchLogRecord } from './search-log.js';

/** Most peers one workload runs: each is a TCP connection and a timer. */
export const MAX_PEERS = 5000;

/** Highest search rate per peer (searches/s); the paper's peers send one every 2 s. */
export const MAX_RATE_PER_PEER = 1000;

/** Reconnect back-off: first retry at once, then doubling up to this cap, so a dead server is not hammered. */
export const MAX_RECONNECT_DELAY_MS = 2000;

/** Link type the peers announce (napster.txt type 2: 4 = 56.7 kbps), as ordinary dial-up clients. */
const PEER_LINK_TYPE = 4;

export interface PeerWorkloadOptions {
  server: { host: string; port: number };
  count: number;
  /** Searches per second per peer. */
  rate: number;
  catalogue: 'paper';
  group: Group;
  durationS: number;
  seed: number;
  /** Path of the .jsonl search log. */
  out: string;
  localAddress?: string;
  /** Nick of peer i is `<nickPrefix><i>`; default `peer<group>`. */
  nickPrefix?: string;
  /** Data port of peer i is `dataPortBase + i` (never 0: these peers accept downloads). */
  dataPortBase?: number;
  searchTimeoutMs?: number;
  maxResults?: number;
  /** Seed of the paper catalogue; must be the same for the A and B workloads so they split one catalogue. Default 1. */
  catalogueSeed?: number;
  /**
   * When the group's peers run in several processes (one per host, each with
   * its own address): this process runs peers `peerIndex … peerIndex+count−1`
   * of `peerTotal`, and shares only their part of the group's files. The files
   * are dealt among all `peerTotal` peers with `catalogueSeed`, the same in
   * every process, so the parts never overlap.
   */
  peerIndex?: number;
  peerTotal?: number;
  /** Stops the run early (e.g. on SIGINT). */
  signal?: AbortSignal;
}

export interface PeerWorkloadSummary {
  peers: number;
  searches: number;
  answered: number;
  timedOut: number;
  /** Searches whose connection closed before their answer. */
  interrupted: number;
  /** Scheduled searches not sent because the peer was reconnecting. */
  skipped: number;
  results: number;
  meanResults: number;
  /** First response minus query, ms, over answered searches. */
  p50ResponseMs: number | null;
  p99ResponseMs: number | null;
  connects: number;
  reconnects: number;
  loginFailures: number;
  logDropped: number;
  durationMs: number;
  out: string;
}

function check(o: PeerWorkloadOptions): void {
  const bad = (m: string): never => {
    throw new WorkloadOptionError(m);
  };
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > MAX_PEERS) bad(`count must be an integer 1…${MAX_PEERS}, got ${o.count}`);
  if (!(o.rate > 0) || o.rate > MAX_RATE_PER_PEER) bad(`rate must be > 0 and ≤ ${MAX_RATE_PER_PEER}, got ${o.rate}`);
  if (!(o.durationS > 0) || !Number.isFinite(o.durationS)) bad(`duration must be a positive number of seconds, got ${o.durationS}`);
  if (o.group !== 'A' && o.group !== 'B') bad(`group must be A or B, got ${String(o.group)}`);
  if (o.catalogue !== 'paper') bad(`unknown catalogue ${String(o.catalogue)} (only "paper")`);
  if (o.peerTotal !== undefined || o.peerIndex !== undefined) {
    const total = o.peerTotal ?? -1;
    const index = o.peerIndex ?? -1;
    if (!Number.isInteger(total) || total < 1 || total > MAX_PEERS) bad(`peer total must be an integer 1…${MAX_PEERS}, got ${total}`);
    if (!Number.isInteger(index) || index < 0 || index + o.count > total) bad(`peers ${index}…${index + o.count - 1} are not within the ${total} peers of the group`);
  }
  const base = o.dataPortBase ?? 6700;
  if (!Number.isInteger(base) || base < 1 || base + o.count - 1 > 65535) bad(`data ports ${base}…${base + o.count - 1} out of range`);
}

/**
 * Folder the peers share their files from. Real clients share full paths, and
 * the OpenNap C server indexes only a name with a `\` or `/` in it (util.c
 * `split_filename`): a bare name counts as shared but is never found.
 */
export const SHARE_FOLDER = 'C:\\Music\\';

function toShared(f: CatalogueFile): SharedFile {
  return { filename: SHARE_FOLDER + f.name, md5: f.md5, size: f.size, bitrate: f.bitrate, freq: f.freq, duration: f.duration };
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? null;
}

interface RunState {
  readonly o: PeerWorkloadOptions;
  readonly log: SearchLogWriter;
  readonly responseMs: number[];
  stopping: boolean;
  searches: number;
  answered: number;
  timedOut: number;
  interrupted: number;
  skipped: number;
  results: number;
  connects: number;
  reconnects: number;
  loginFailures: number;
  readonly inFlight: Set<Promise<void>>;
}

class Peer {
  private client: OpenNapClient | undefined;
  private ready = false;
  private timer: NodeJS.Timeout | undefined;
  private nextAt = 0;
  private retryDelay = 0;
  private attempt = 0;
  private connecting: Promise<void> = Promise.resolve();

  constructor(
    private readonly st: RunState,
    readonly nick: string,
    private readonly dataPort: number,
    private readonly files: SharedFile[],
    private readonly picker: KeywordPicker,
    private readonly phase: number,
  ) {}

  start(now: number): void {
    this.nextAt = now + this.phase;
    this.connecting = this.connect();
    this.schedule();
  }

  /** Stops searching, waits for a connection attempt under way, and closes. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.connecting;
    const c = this.client;
    this.client = undefined;
    this.ready = false;
    if (c !== undefined) await c.close();
  }

  private schedule(): void {
    if (this.st.stopping) return;
    this.timer = setTimeout(() => this.tick(), Math.max(0, this.nextAt - Date.now()));
  }

  private tick(): void {
    if (this.st.stopping) return;
    this.nextAt += 1000 / this.st.o.rate;
    this.searchOnce();
    this.schedule();
  }

  private searchOnce(): void {
    const c = this.client;
    if (c === undefined || !this.ready) {
      this.st.skipped++;
      return;
    }
    const word = this.picker.next();
    const query = serializeSearch({ include: [word], exclude: [], maxResults: this.st.o.maxResults ?? 100 });
    const sentAt = Date.now();
    this.st.searches++;
    const record = (r: Omit<SearchLogRecord, 'peer' | 'keywords'>): void => {
      this.st.log.write({ peer: this.nick, keywords: [word], ...r });
    };
    const p = c.search(query, { timeoutMs: this.st.o.searchTimeoutMs ?? 10_000 }).then(
      (out) => {
        const answered = out.endedBy === 'end';
        if (answered) this.st.answered++;
        else this.st.timedOut++;
        this.st.results += out.results.length;
        if (answered && out.firstResultAt !== null) this.st.responseMs.push(out.firstResultAt - out.sentAt);
        // On timeout firstResultAt stays whatever arrived (null when nothing did).
        record({ sentAt: out.sentAt, firstResultAt: out.firstResultAt, results: out.results.length, endedBy: out.endedBy });
      },
      () => {
        this.st.interrupted++;
        record({ sentAt, firstResultAt: null, results: 0, endedBy: 'closed' });
      },
    );
    this.st.inFlight.add(p);
    void p.finally(() => this.st.inFlight.delete(p));
  }

  private async connect(): Promise<void> {
    while (!this.st.stopping) {
      const c = new OpenNapClient();
      try {
        await c.connect({ ...this.st.o.server, ...(this.st.o.localAddress !== undefined ? { localAddress: this.st.o.localAddress } : {}) });
        // After a reset the server may still hold our old session: a second attempt uses a fresh nick.
        const nick = this.attempt === 0 ? this.nick : `${this.nick}_${this.attempt}`;
        await c.login({ nick, password: 'secret', port: this.dataPort, clientInfo: 'active-router peer 1.0', linkType: PEER_LINK_TYPE, newUser: true });
        if (this.st.stopping) {
          await c.close();
          return;
        }
        c.share(this.files);
        this.client = c;
        this.ready = true;
        this.retryDelay = 0;
        this.st.connects++;
        c.once('close', () => this.onDrop(c));
        return;
      } catch (err) {
        if (err instanceof LoginRejectedError) {
          this.st.loginFailures++;
          this.attempt++;
        }
        await c.close();
        await new Promise((r) => setTimeout(r, this.retryDelay));
        this.retryDelay = Math.min(MAX_RECONNECT_DELAY_MS, Math.max(50, this.retryDelay * 2));
      }
    }
  }

  private onDrop(c: OpenNapClient): void {
    if (this.client !== c) return;
    this.client = undefined;
    this.ready = false;
    if (this.st.stopping) return;
    this.st.reconnects++;
    this.connecting = this.connect();
  }
}

/** The files each of this process's peers shares (pure: the same options give the same parts). */
export function sharesOf(
  catalogue: ReturnType<typeof paperCatalogue>,
  o: Pick<PeerWorkloadOptions, 'group' | 'count' | 'seed' | 'peerIndex' | 'peerTotal' | 'catalogueSeed'>,
): CatalogueFile[][] {
  const groupFiles = filesOfGroup(catalogue, o.group);
  if (o.peerTotal === undefined) return assignFilesToPeers(groupFiles, o.count, new Random(o.seed));
  const from = o.peerIndex ?? 0;
  return assignFilesToPeers(groupFiles, o.peerTotal, new Random(o.catalogueSeed ?? 1)).slice(from, from + o.count);
}

/** Runs the workload for `durationS` seconds (or until `signal` aborts) and returns its summary. */
export async function runPeerWorkload(o: PeerWorkloadOptions): Promise<PeerWorkloadSummary> {
  check(o);
  const catalogue = paperCatalogue(o.catalogueSeed ?? 1);
  const shares = sharesOf(catalogue, o);
  const phaseRng = new Random(o.seed + 1);
  const st: RunState = {
    o,
    log: new SearchLogWriter(o.out),
    responseMs: [],
    stopping: false,
    searches: 0,
    answered: 0,
    timedOut: 0,
    interrupted: 0,
    skipped: 0,
    results: 0,
    connects: 0,
    reconnects: 0,
    loginFailures: 0,
    inFlight: new Set(),
  };
  const prefix = o.nickPrefix ?? `peer${o.group}`;
  const base = o.dataPortBase ?? 6700;
  const periodMs = 1000 / o.rate;
  const peers = shares.map(
    (files, i) =>
      new Peer(
        st,
        `${prefix}${i}`,
        base + i,
        files.map(toShared),
        new KeywordPicker(catalogue, new Random(o.seed * 7919 + i)),
        // Spread the peers' first searches over one period so they do not all search in the same instant.
        phaseRng.next() * periodMs,
      ),
  );
  const started = Date.now();
  for (const p of peers) p.start(started);
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, o.durationS * 1000);
    o.signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });
  st.stopping = true;
  // Let searches already sent finish (each has its own timeout), then leave.
  await Promise.allSettled([...st.inFlight]);
  await Promise.all(peers.map((p) => p.stop()));
  await st.log.close();
  const sorted = st.responseMs.sort((a, b) => a - b);
  return {
    peers: peers.length,
    searches: st.searches,
    answered: st.answered,
    timedOut: st.timedOut,
    interrupted: st.interrupted,
    skipped: st.skipped,
    results: st.results,
    meanResults: st.searches === 0 ? 0 : st.results / st.searches,
    p50ResponseMs: percentile(sorted, 50),
    p99ResponseMs: percentile(sorted, 99),
    connects: st.connects,
    reconnects: st.reconnects,
    loginFailures: st.loginFailures,
    logDropped: st.log.dropped,
    durationMs: Date.now() - started,
    out: o.out,
  };
}
