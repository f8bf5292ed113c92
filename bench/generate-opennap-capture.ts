/**
 * Seeded generator of realistic OpenNap traffic as a classic pcap, for the
 * analyzer benchmark (issue 3). Messages are real Napster frames from the
 * project's codec (opennap/codec.ts, napster.txt §1-2): login (2) and its ack
 * (3), shares (100), searches (200, serializeSearch) answered by results
 * (201) and an end (202); TCP as on a wire (RFC 9293): three-way handshake,
 * segments cut at the MSS, ACKs, FIN exchange, and a few reordered and
 * retransmitted segments. Timestamps are simulated, never read from a clock.
 *
 * Two modes:
 * - `sessions`: many servers and clients, up to MAX_OPEN_SESSIONS sessions
 *   interleaved at once, each from SYN to FIN, until `packets` is reached.
 * - `concurrent`: `flows` sessions opened over a spread of time that all stay
 *   open to the end (no FIN), for the memory figure at 100,000 open flows.
 *
 * The summary says exactly how many searches were sent and answered, so a
 * replay can be checked against it.
 */
import { encodeFrame } from '../opennap/codec.js';
import { MessageType } from '../opennap/message-types.js';
import { buildLogin, buildSearchResult, buildShareFile } from '../opennap/messages.js';
import { Random } from '../opennap/random.js';
import { serializeSearch } from '../opennap/search-expression.js';
import { buildFrame, linkTypeOf } from '../analyzers/packet/build.js';
import { TcpFlag } from '../analyzers/packet/types.js';
import { PcapWriter } from '../daemon/capture/pcap-writer.js';

export const DEFAULT_SERVERS = 20;
export const DEFAULT_CLIENTS = 5_000;
/** The benchmark's size: a million packets keeps timing noise of one run well under a percent. */
export const DEFAULT_PACKETS = 1_000_000;
/** The memory figure's size (design target of the flow table, analyzers/flows/limits.ts). */
export const DEFAULT_CONCURRENT_FLOWS = 100_000;
export const OPENNAP_PORT = 8888;
/** Ethernet MTU 1500 − 40 bytes of IPv4 + TCP headers. */
export const MSS = 1460;
/** Sessions in flight at once in `sessions` mode: a busy directory router, and a bound on the generator's memory. */
export const MAX_OPEN_SESSIONS = 2_000;
/** Packets of budget per session opened at the start of `sessions` mode (about five sessions' worth each). */
export const PACKETS_PER_OPEN_SESSION = 500;
/** Fraction of multi-segment server answers whose first two segments arrive swapped. */
export const REORDER_PROBABILITY = 0.01;
/** Fraction of data segments sent twice (a spurious retransmission after a lost ACK). */
export const RETRANSMIT_PROBABILITY = 0.005;
/** First capture timestamp (ms since the epoch): fixed so that the same seed gives the same file. */
export const START_TS = Date.UTC(2024, 0, 15, 12, 0, 0);
/** Time over which `concurrent` mode opens its flows. */
export const CONCURRENT_SPREAD_MS = 60_000;
/** Results a server sends at most per search (napster.txt: clients ask for up to 100). */
export const MAX_RESULTS = 100;
/** Words the generated file names and searches are made of. */
export const VOCABULARY_SIZE = 400;

export type GeneratorMode = 'sessions' | 'concurrent';

export interface GeneratorOptions {
  seed: number;
  mode: GeneratorMode;
  servers: number;
  clients: number;
  /** `sessions` mode: stop opening sessions once this many packets are out (open ones finish). */
  packets: number;
  /** `concurrent` mode: sessions opened, all left open. */
  flows: number;
}

export const DEFAULT_GENERATOR_OPTIONS: Readonly<GeneratorOptions> = Object.freeze({
  seed: 1,
  mode: 'sessions',
  servers: DEFAULT_SERVERS,
  clients: DEFAULT_CLIENTS,
  packets: DEFAULT_PACKETS,
  flows: DEFAULT_CONCURRENT_FLOWS,
});

export interface GeneratorSummary {
  mode: GeneratorMode;
  seed: number;
  packets: number;
  bytes: number;
  sessions: number;
  /** Sessions left open at the end (all of them in `concurrent` mode). */
  openAtEnd: number;
  searches: number;
  /** Every search gets an answer (at least the 202). */
  answered: number;
  results: number;
  reordered: number;
  retransmitted: number;
  firstTs: number;
  lastTs: number;
  /** Server endpoints used, `ip:port`. */
  serverAddresses: string[];
}

/** Where frames go: a PcapWriter, or anything that counts them. */
export interface FrameOutput {
  write(frame: Buffer, ts: number): void;
}

interface Packet {
  ts: number;
  frame: Buffer;
}

interface Endpoints {
  clientIp: string;
  clientPort: number;
  serverIp: string;
}

const CLIENT_MAC = '02:00:00:00:01:01';
const SERVER_MAC = '02:00:00:00:02:02';

/** Pronounceable words ("bakomi"), so file names and searches look like text. */
function vocabulary(rng: Random): string[] {
  const c = 'bdfgklmnprstvz';
  const v = 'aeiou';
  const words = new Set<string>();
  while (words.size < VOCABULARY_SIZE) {
    let w = '';
    const syllables = 2 + rng.int(2);
    for (let i = 0; i < syllables; i++) w += c[rng.int(c.length)]! + v[rng.int(v.length)]!;
    words.add(w);
  }
  return [...words];
}

/** An MD5-looking 32-digit hex string. */
function hex32(rng: Random): string {
  let out = '';
  for (let i = 0; i < 4; i++) out += rng.nextUint32().toString(16).padStart(8, '0');
  return out;
}

function exponential(rng: Random, mean: number): number {
  return -Math.log(1 - rng.next()) * mean;
}

/** Skewed pick: popular words are drawn far more often, as search keywords are. */
function popular<T>(rng: Random, items: readonly T[]): T {
  return items[Math.floor(rng.next() ** 3 * items.length)]!;
}

class Session {
  readonly queue: Packet[] = [];
  private head = 0;
  private cSeq: number;
  private sSeq: number;
  /** Simulated time of this session's last packet. */
  private t: number;
  private step: 'open' | 'login' | 'share' | 'search' | 'close' | 'done' = 'open';
  private searchesLeft: number;
  /** Half the round trip between the capture point and either end. */
  private readonly halfRtt: number;

  constructor(
    private readonly g: Generator,
    private readonly ep: Endpoints,
    startTs: number,
    private readonly serverDelayMs: number,
    searches: number,
    private readonly keepOpen: boolean,
    private readonly nick: string,
  ) {
    const rng = g.rng;
    this.cSeq = rng.nextUint32();
    this.sSeq = rng.nextUint32();
    this.t = startTs;
    this.searchesLeft = searches;
    this.halfRtt = 0.05 + rng.next() * 0.5;
    this.advance();
  }

  get done(): boolean {
    return this.step === 'done' && this.head >= this.queue.length;
  }

  get nextTs(): number {
    return this.queue[this.head]!.ts;
  }

  get pending(): boolean {
    return this.head < this.queue.length;
  }

  take(): Packet {
    const p = this.queue[this.head++]!;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
      this.advance();
    }
    return p;
  }

  /** Generates the next exchange of the session into the queue (empty when it is over). */
  private advance(): void {
    const rng = this.g.rng;
    switch (this.step) {
      case 'open': {
        this.push('c', TcpFlag.SYN, Buffer.alloc(0));
        this.cSeq = (this.cSeq + 1) >>> 0;
        this.t += this.halfRtt * 2;
        this.push('s', TcpFlag.SYN | TcpFlag.ACK, Buffer.alloc(0)); // push() moves sSeq past the SYN
        this.t += this.halfRtt * 2;
        this.push('c', TcpFlag.ACK, Buffer.alloc(0));
        this.step = 'login';
        return;
      }
      case 'login': {
        this.t += 1 + rng.next() * 5;
        this.data('c', encodeFrame(MessageType.NewUserLogin, buildLogin({ nick: this.nick, password: 'secret', port: 6699, clientInfo: 'WinMX v2.6', linkType: 4 })));
        this.t += this.halfRtt * 2 + 0.2 + rng.next();
        this.data('s', encodeFrame(MessageType.LoginAck, `${this.nick}@example.net`));
        this.step = 'share';
        return;
      }
      case 'share': {
        const n = 1 + rng.int(40);
        const frames: Buffer[] = [];
        for (let i = 0; i < n; i++) {
          const name = `C:\\Music\\${popular(rng, this.g.words)} ${popular(rng, this.g.words)} ${rng.pick(this.g.words)}.mp3`;
          frames.push(encodeFrame(MessageType.ShareFile, buildShareFile({ filename: name, md5: hex32(rng), size: 2_000_000 + rng.int(8_000_000), bitrate: 128, freq: 44100, duration: 120 + rng.int(300) })));
        }
        this.t += 1 + rng.next() * 10;
        this.data('c', Buffer.concat(frames));
        this.t += this.halfRtt * 2;
        this.push('s', TcpFlag.ACK, Buffer.alloc(0));
        this.step = this.searchesLeft > 0 ? 'search' : this.keepOpen ? 'done' : 'close';
        return;
      }
      case 'search': {
        this.search();
        this.searchesLeft--;
        if (this.searchesLeft <= 0) this.step = this.keepOpen ? 'done' : 'close';
        return;
      }
      case 'close': {
        this.t += exponential(rng, 2_000);
        this.push('c', TcpFlag.FIN | TcpFlag.ACK, Buffer.alloc(0));
        this.cSeq = (this.cSeq + 1) >>> 0;
        this.t += this.halfRtt * 2;
        this.push('s', TcpFlag.FIN | TcpFlag.ACK, Buffer.alloc(0));
        this.sSeq = (this.sSeq + 1) >>> 0;
        this.t += this.halfRtt * 2;
        this.push('c', TcpFlag.ACK, Buffer.alloc(0));
        this.step = 'done';
        return;
      }
      case 'done':
        return;
    }
  }

  private search(): void {
    const g = this.g;
    const rng = g.rng;
    const words = rng.next() < 0.6 ? [popular(rng, g.words)] : [popular(rng, g.words), popular(rng, g.words)];
    const include = [...new Set(words)];
    this.t += exponential(rng, 1_500); // think time between a user's searches
    this.data('c', encodeFrame(MessageType.Search, serializeSearch({ include, exclude: [], maxResults: MAX_RESULTS })));
    g.summary.searches++;
    // Server answer after its (load-dependent) processing time.
    this.t += this.halfRtt * 2 + exponential(rng, this.serverDelayMs);
    const k = Math.floor(rng.next() ** 3 * MAX_RESULTS);
    const frames: Buffer[] = [];
    for (let i = 0; i < k; i++) {
      const filename = `C:\\Music\\${include.join(' ')} ${rng.pick(g.words)} ${i}.mp3`;
      frames.push(encodeFrame(MessageType.SearchResult, buildSearchResult({
        filename, md5: hex32(rng), size: 2_000_000 + rng.int(8_000_000), bitrate: 128, freq: 44100, duration: 120 + rng.int(300),
        nick: `user${rng.int(g.o.clients)}`, ip: `10.${100 + rng.int(50)}.${rng.int(256)}.${1 + rng.int(254)}`, linkType: rng.int(11),
      })));
    }
    frames.push(encodeFrame(MessageType.SearchEnd, ''));
    g.summary.results += k;
    g.summary.answered++;
    this.data('s', Buffer.concat(frames), rng.next() < REORDER_PROBABILITY);
    this.t += this.halfRtt * 2;
    this.push('c', TcpFlag.ACK, Buffer.alloc(0));
  }

  /** Sends `bytes` from one side, cut at the MSS; optionally the first two segments swap places on the wire. */
  private data(from: 'c' | 's', bytes: Buffer, reorder = false): void {
    const rng = this.g.rng;
    const segs: { seq: number; payload: Buffer }[] = [];
    let seq = from === 'c' ? this.cSeq : this.sSeq;
    for (let off = 0; off < bytes.length; off += MSS) {
      const payload = bytes.subarray(off, Math.min(bytes.length, off + MSS));
      segs.push({ seq, payload });
      seq = (seq + payload.length) >>> 0;
    }
    if (reorder && segs.length >= 2) {
      [segs[0], segs[1]] = [segs[1]!, segs[0]!];
      this.g.summary.reordered++;
    }
    for (const s of segs) {
      this.push(from, TcpFlag.ACK | TcpFlag.PSH, s.payload, s.seq);
      if (rng.next() < RETRANSMIT_PROBABILITY) {
        this.t += 0.2 + rng.next();
        this.push(from, TcpFlag.ACK | TcpFlag.PSH, s.payload, s.seq);
        this.g.summary.retransmitted++;
      }
      this.t += 0.01 + rng.next() * 0.05; // serialisation and scheduling between segments
    }
    if (from === 'c') this.cSeq = seq;
    else this.sSeq = seq;
  }

  /** One packet at the session's current time; `seq` defaults to the sender's next sequence number. */
  private push(from: 'c' | 's', flags: number, payload: Buffer, seq?: number): void {
    const c = from === 'c';
    const ep = this.ep;
    const frame = buildFrame({
      link: { type: 'ethernet', src: c ? CLIENT_MAC : SERVER_MAC, dst: c ? SERVER_MAC : CLIENT_MAC },
      ip: { src: c ? ep.clientIp : ep.serverIp, dst: c ? ep.serverIp : ep.clientIp, ttl: c ? 63 : 64 },
      tcp: {
        srcPort: c ? ep.clientPort : OPENNAP_PORT,
        dstPort: c ? OPENNAP_PORT : ep.clientPort,
        seq: seq ?? (c ? this.cSeq : this.sSeq),
        // The SYN carries no acknowledgment; everything after it acknowledges the peer's next byte.
        ack: flags === TcpFlag.SYN ? 0 : c ? this.sSeq : this.cSeq,
        flags,
        window: 64_240,
        payload,
      },
    });
    if (flags === (TcpFlag.SYN | TcpFlag.ACK)) this.sSeq = (this.sSeq + 1) >>> 0;
    this.queue.push({ ts: this.t, frame });
  }
}

/** Binary min-heap of sessions by the timestamp of their next packet. */
class SessionHeap {
  private readonly a: Session[] = [];
  get size(): number {
    return this.a.length;
  }
  push(s: Session): void {
    const a = this.a;
    a.push(s);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.nextTs <= a[i]!.nextTs) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): Session | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.nextTs < a[m]!.nextTs) m = l;
        if (r < a.length && a[r]!.nextTs < a[m]!.nextTs) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}

class Generator {
  readonly rng: Random;
  readonly words: string[];
  readonly summary: GeneratorSummary;
  private readonly serverIps: string[];
  private readonly serverDelays: number[];
  /** Next ephemeral port per client, so reconnecting clients open new flows. */
  private readonly nextPort: number[];
  private nextClient = 0;

  constructor(readonly o: GeneratorOptions) {
    this.rng = new Random(o.seed);
    this.words = vocabulary(this.rng);
    this.serverIps = Array.from({ length: o.servers }, (_, i) => `10.1.${Math.floor(i / 250)}.${10 + (i % 250)}`);
    // Some servers are busy (tens of ms to answer), most are quick.
    this.serverDelays = this.serverIps.map(() => 1 + this.rng.next() ** 2 * 40);
    this.nextPort = Array.from({ length: o.clients }, () => 32_768 + this.rng.int(20_000));
    this.summary = {
      mode: o.mode, seed: o.seed, packets: 0, bytes: 0, sessions: 0, openAtEnd: 0, searches: 0, answered: 0, results: 0,
      reordered: 0, retransmitted: 0, firstTs: Number.NaN, lastTs: Number.NaN, serverAddresses: this.serverIps.map((ip) => `${ip}:${OPENNAP_PORT}`),
    };
  }

  /** A new session of the next client (round robin) to a server it picks, at `startTs`. */
  newSession(startTs: number, keepOpen: boolean, searches: number): Session {
    const c = this.nextClient;
    this.nextClient = (this.nextClient + 1) % this.o.clients;
    const port = this.nextPort[c]!;
    // Ephemeral range 32768-60999 (Linux default), wrapping.
    this.nextPort[c] = port >= 60_999 ? 32_768 : port + 1;
    const s = this.rng.int(this.o.servers);
    const clientIp = `10.${100 + Math.floor(c / 65_536)}.${Math.floor(c / 256) % 256}.${c % 256}`;
    this.summary.sessions++;
    return new Session(this, { clientIp, clientPort: port, serverIp: this.serverIps[s]! }, startTs, this.serverDelays[s]!, searches, keepOpen, `user${c}`);
  }

  run(out: FrameOutput): GeneratorSummary {
    const heap = new SessionHeap();
    const rng = this.rng;
    const concurrent = this.o.mode === 'concurrent';
    // Sessions average under a hundred packets: open few enough that the ones in flight when the
    // target is reached do not overshoot it by much, at most MAX_OPEN_SESSIONS.
    const initial = concurrent ? this.o.flows : Math.max(1, Math.min(MAX_OPEN_SESSIONS, Math.ceil(this.o.packets / PACKETS_PER_OPEN_SESSION)));
    const spread = concurrent ? CONCURRENT_SPREAD_MS : 5_000;
    const starts = Array.from({ length: initial }, () => START_TS + rng.next() * spread).sort((a, b) => a - b);
    for (const t of starts) heap.push(this.newSession(t, concurrent, concurrent ? rng.int(3) : 1 + rng.int(30)));
    const sum = this.summary;
    for (;;) {
      const s = heap.pop();
      if (s === undefined) break;
      const p = s.take();
      out.write(p.frame, p.ts);
      if (Number.isNaN(sum.firstTs)) sum.firstTs = p.ts;
      sum.lastTs = p.ts;
      sum.packets++;
      sum.bytes += p.frame.length;
      if (s.pending) heap.push(s);
      else if (!s.done) throw new Error('generator: a session stopped without finishing');
      else if (!concurrent && sum.packets < this.o.packets) heap.push(this.newSession(p.ts + rng.next() * 50, false, 1 + rng.int(30)));
    }
    sum.openAtEnd = concurrent ? sum.sessions : 0;
    return sum;
  }
}

/** Generates the traffic into `out`, frames in capture order. Pure apart from `out`. */
export function generateOpenNapTraffic(out: FrameOutput, options: Partial<GeneratorOptions> = {}): GeneratorSummary {
  const o: GeneratorOptions = { ...DEFAULT_GENERATOR_OPTIONS, ...options };
  return new Generator(o).run(out);
}

/** Writes the traffic to a classic pcap file (Ethernet, microsecond timestamps). */
export function writeOpenNapCapture(path: string, options: Partial<GeneratorOptions> = {}): GeneratorSummary {
  const writer = PcapWriter.open(path, { linkType: linkTypeOf({ type: 'ethernet' }), precision: 'us' });
  try {
    return generateOpenNapTraffic(writer, options);
  } finally {
    writer.close();
  }
}
