/**
 * The flow table: decoded packets → flows → analyzers. Keys flows by the
 * direction-normalised 5-tuple; decides client and server (SYN / SYN-ACK,
 * else a known or learnt server endpoint, else port heuristics); reassembles
 * TCP per direction (reassembler.ts) and passes UDP datagrams whole; picks an
 * analyzer by server port or by probing (probe.ts, dispatch.ts); closes
 * flows on FIN from both sides, RST, idle timeout (packet timestamps only:
 * the caller drives `expire`) and capacity eviction (least recently used).
 * Every bound is in limits.ts; every drop and eviction is counted.
 */
import type { AnalyzerRegistration, FlowEndReason } from '../analyzer.js';
import type { Counters } from '../counters.js';
import type { AnalyzerEvent } from '../events.js';
import type { DecodedPacket } from '../packet/types.js';
import { payloadOf, TcpFlag } from '../packet/types.js';
import type { AnalyzerRegistry } from '../registry.js';
import { Dispatcher } from './dispatch.js';
import { FIN_FROM_CLIENT, FIN_FROM_SERVER, Flow, flowKeyOf, serverPortScore } from './flow.js';
import { FlowIndex, v4TupleOf } from './flow-index.js';
import { LearntServers } from './learnt-servers.js';
import type { FlowLimits } from './limits.js';
import { resolveFlowLimits } from './limits.js';
import { parseIPv4, parseIPv6 } from '../packet/ip-parse.js';
import { formatIPv6 } from '../packet/ip-text.js';
import { LruList } from './lru.js';
import { Prober } from './probe.js';
import type { BufferBudget, ReassemblyEnv } from './reassembler.js';
import { Reassembler } from './reassembler.js';

export interface FlowTableOptions {
  registry: AnalyzerRegistry;
  /** The registration for a server endpoint named by policy (or by default ports), if any. */
  isServerPort(transport: 'tcp' | 'udp', ip: string, port: number): AnalyzerRegistration | undefined;
  onEvent(event: AnalyzerEvent): void;
  counters: Counters;
  limits?: Partial<FlowLimits>;
  /** Self-study: probe flows on ports nobody named (default true). Off, such flows are only counted. */
  probe?: boolean;
  /** See `AnalyzerContext.wantsResults`. */
  wantsResults?: (protocol: string, server: { ip: string; port: number }, keywords: readonly string[]) => boolean;
}

export interface FlowTableStats {
  flows: number;
  tcpFlows: number;
  udpFlows: number;
  analyzing: number;
  probing: number;
  ignored: number;
  /** Flows with FIN from both sides waiting for holes to fill. */
  closing: number;
  /** Out-of-order bytes held by all reassemblers. */
  bufferedBytes: number;
  learntServers: number;
}

/** Which tracked TCP sessions `tcpSessions` returns: those to one server, from selected clients. */
export interface TcpSessionFilter {
  readonly serverIp: string;
  readonly serverPort: number;
  /** Client networks (CIDR or single address); absent or empty: any client. */
  readonly clientCidrs?: readonly string[];
  /** Client networks left out even when selected above. */
  readonly except?: readonly string[];
}

/**
 * One tracked TCP session and the next sequence number each side expects
 * from the other (uint32), undefined when that direction was never seen or
 * is not reassembled (flows no analyzer looks at keep no sequence state).
 */
export interface TcpSessionState {
  readonly client: { readonly ip: string; readonly port: number };
  readonly server: { readonly ip: string; readonly port: number };
  /** Next sequence number the server expects from the client. */
  readonly nextSeqToServer: number | undefined;
  /** Next sequence number the client expects from the server. */
  readonly nextSeqToClient: number | undefined;
}

export class FlowTable {
  readonly limits: FlowLimits;
  private readonly flows = new FlowIndex();
  private readonly tcpLru = new LruList<Flow>();
  private readonly udpLru = new LruList<Flow>();
  private readonly closing = new Set<Flow>();
  private readonly budget: BufferBudget;
  private readonly learnt: LearntServers;
  private readonly dispatcher: Dispatcher;
  private readonly env: ReassemblyEnv;
  private readonly counters: Counters;
  /** Server endpoints and self-study: replaced by `configure` (a policy reload); flows already tracked keep their analyzer. */
  private isServerPort: FlowTableOptions['isServerPort'];
  private probe: boolean;

  constructor(private readonly opts: FlowTableOptions) {
    this.limits = resolveFlowLimits(opts.limits);
    this.counters = opts.counters;
    this.isServerPort = opts.isServerPort;
    this.probe = opts.probe !== false;
    this.budget = { used: 0, max: this.limits.maxBufferedTotal };
    this.learnt = new LearntServers(this.limits.maxLearntServers, opts.counters);
    this.dispatcher = new Dispatcher({ counters: opts.counters, onEvent: opts.onEvent, learnt: this.learnt, ...(opts.wantsResults ? { wantsResults: opts.wantsResults } : {}) });
    this.env = {
      sink: this.dispatcher,
      counters: opts.counters,
      budget: this.budget,
      maxPendingSegments: this.limits.maxPendingSegments,
    };
  }

  /** Takes new server endpoints and self-study setting for the flows that start from now on. */
  configure(settings: { isServerPort: FlowTableOptions['isServerPort']; probe: boolean }): void {
    this.isServerPort = settings.isServerPort;
    this.probe = settings.probe;
  }

  handlePacket(pkt: DecodedPacket): void {
    const tcp = pkt.transport === 'tcp';
    let f = this.flows.find(pkt);
    if (f !== undefined && tcp && (pkt.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN && this.isNewConnection(f, pkt)) {
      // A fresh SYN on a tuple we still track: the old connection ended unseen.
      this.counters.inc('flow.tuple_reused');
      this.close(f, pkt.ts, 'idle');
      f = undefined;
    }
    if (f === undefined) {
      if (tcp && pkt.payloadEnd === pkt.payloadStart && (pkt.flags & TcpFlag.SYN) === 0) {
        // A bare ACK/FIN/RST of a flow we do not know (often the tail of one just closed): nothing to analyse.
        this.counters.inc('flow.untracked_control_segment');
        return;
      }
      f = this.create(pkt);
    } else {
      (tcp ? this.tcpLru : this.udpLru).touch(f);
      if (pkt.ts > f.lastTs) f.lastTs = pkt.ts;
    }
    const dir = f.directionOf(pkt.src, pkt.srcPort);
    if (f.mode === 'analyzing' && f.reg !== null && this.opts.registry.isDisabled(f.reg.name)) {
      this.dispatcher.disable(f, pkt.ts);
      this.release(f);
    }
    if (!tcp) {
      this.dispatcher.onDatagram(f, dir, payloadOf(pkt), pkt.ts);
      return;
    }
    if ((pkt.flags & TcpFlag.FIN) !== 0) f.finMask |= dir === 'toServer' ? FIN_FROM_CLIENT : FIN_FROM_SERVER;
    const r = dir === 'toServer' ? f.toServer : f.toClient;
    const other = dir === 'toServer' ? f.toClient : f.toServer;
    if (r !== null) {
      this.dispatcher.current = f;
      r.push(pkt.seq, pkt.flags, pkt.bytes, pkt.payloadStart, pkt.payloadEnd, pkt.ts, this.env, this.limits.maxBufferedPerFlow - (other?.bufferedBytes ?? 0));
      this.dispatcher.current = null;
      if (f.mode === 'ignored') this.release(f);
    }
    if ((pkt.flags & TcpFlag.RST) !== 0) {
      this.close(f, pkt.ts, 'rst');
      return;
    }
    if (f.finMask === (FIN_FROM_CLIENT | FIN_FROM_SERVER)) {
      const done = f.toServer === null || f.toClient === null || (f.toServer.complete && f.toClient.complete);
      if (done) this.close(f, pkt.ts, 'fin');
      else if (!f.closing) {
        f.closing = true;
        this.closing.add(f);
      }
    }
  }

  /** Closes flows idle past their timeout, and closing flows whose holes did not fill in time. */
  expire(nowTs: number): void {
    this.expireList(this.tcpLru, nowTs - this.limits.tcpIdleMs, nowTs);
    this.expireList(this.udpLru, nowTs - this.limits.udpIdleMs, nowTs);
    for (const f of this.closing) {
      if (f.lastTs <= nowTs - this.limits.closingMs) this.close(f, nowTs, 'fin');
    }
  }

  /** Ends every flow (daemon shutdown): analyzers hear `shutdown`. */
  closeAll(ts: number): void {
    for (const f of [...this.flows.values()]) this.close(f, ts, 'shutdown');
  }

  stats(): FlowTableStats {
    let analyzing = 0;
    let probing = 0;
    for (const f of this.flows.values()) {
      if (f.mode === 'analyzing') analyzing++;
      else if (f.mode === 'probing') probing++;
    }
    return {
      flows: this.flows.size,
      tcpFlows: this.tcpLru.size,
      udpFlows: this.udpLru.size,
      analyzing,
      probing,
      ignored: this.flows.size - analyzing - probing,
      closing: this.closing.size,
      bufferedBytes: this.budget.used,
      learntServers: this.learnt.size,
    };
  }

  /**
   * The TCP sessions to one server (for resetting them when their clients are
   * redirected). A scan of the table, called per redirect change, not per
   * packet. A malformed address or CIDR in the filter selects nothing and is
   * counted (`flow.session_query_bad_filter`): an `except` that cannot be
   * read must not widen the selection.
   */
  tcpSessions(filter: TcpSessionFilter): TcpSessionState[] {
    const server = canonicalAddress(filter.serverIp);
    const include = parseCidrs(filter.clientCidrs ?? []);
    const exclude = parseCidrs(filter.except ?? []);
    if (server === undefined || include === undefined || exclude === undefined) {
      this.counters.inc('flow.session_query_bad_filter');
      return [];
    }
    const out: TcpSessionState[] = [];
    for (const f of this.flows.values()) {
      if (f.transport !== 'tcp' || f.serverPort !== filter.serverPort || f.serverIp !== server) continue;
      if (include.length > 0 || exclude.length > 0) {
        const client = addressBytes(f.clientIp);
        if (client === undefined) continue;
        if (include.length > 0 && !include.some((c) => cidrContains(c, client))) continue;
        if (exclude.some((c) => cidrContains(c, client))) continue;
      }
      out.push({
        client: { ip: f.clientIp, port: f.clientPort },
        server: { ip: f.serverIp, port: f.serverPort },
        nextSeqToServer: f.toServer?.highestNextSeq,
        nextSeqToClient: f.toClient?.highestNextSeq,
      });
    }
    return out;
  }

  /** Servers recognised by probing, for status output. */
  learntServers(): { transport: 'tcp' | 'udp'; ip: string; port: number; protocol: string }[] {
    return this.learnt.entries();
  }

  private create(pkt: DecodedPacket): Flow {
    const key = pkt.srcV4 < 0 ? flowKeyOf(pkt.transport, pkt.src, pkt.srcPort, pkt.dst, pkt.dstPort) : '';
    if (this.flows.size >= this.limits.maxFlows) this.evictOldest(pkt.ts);
    const t = pkt.transport;
    let clientIsSrc: boolean;
    let found: Found | undefined;
    if (t === 'tcp' && (pkt.flags & TcpFlag.SYN) !== 0) {
      // SYN: the sender initiates; SYN-ACK: the receiver did.
      clientIsSrc = (pkt.flags & TcpFlag.ACK) === 0;
      found = clientIsSrc ? this.lookup(t, pkt.dst, pkt.dstPort) : this.lookup(t, pkt.src, pkt.srcPort);
    } else if ((found = this.lookup(t, pkt.dst, pkt.dstPort)) !== undefined) {
      clientIsSrc = true;
    } else if ((found = this.lookup(t, pkt.src, pkt.srcPort)) !== undefined) {
      clientIsSrc = false;
    } else {
      // Nobody named either end: the likelier server port wins; on a tie the receiver is the server.
      clientIsSrc = serverPortScore(pkt.dstPort) >= serverPortScore(pkt.srcPort);
    }
    const f = clientIsSrc
      ? new Flow(key, t, pkt.src, pkt.srcPort, pkt.dst, pkt.dstPort, pkt.ts)
      : new Flow(key, t, pkt.dst, pkt.dstPort, pkt.src, pkt.srcPort, pkt.ts);
    if (found !== undefined) {
      this.dispatcher.attach(f, found.reg, found.learnt);
    } else if (this.probe && this.opts.registry.enabled(t).length > 0) {
      f.prober = new Prober(this.opts.registry.enabled(t), t === 'tcp', this.limits.probeBytes, this.limits.probeDatagrams);
      f.mode = 'probing';
    } else {
      this.counters.inc('flow.no_analyzer');
    }
    if (t === 'tcp' && f.mode !== 'ignored') {
      f.toServer = new Reassembler('toServer');
      f.toClient = new Reassembler('toClient');
    }
    if (t === 'tcp' && clientIsSrc && (pkt.flags & TcpFlag.SYN) !== 0) f.clientIsn = pkt.seq;
    if (pkt.srcV4 >= 0) f.v4 = v4TupleOf(pkt);
    this.flows.add(f);
    (t === 'tcp' ? this.tcpLru : this.udpLru).push(f);
    this.counters.inc(`flow.created_${t}`);
    return f;
  }

  private lookup(t: 'tcp' | 'udp', ip: string, port: number): Found | undefined {
    const named = this.isServerPort(t, ip, port);
    if (named !== undefined && named.transport === t && this.opts.registry.isEnabled(named.name)) {
      return { reg: named, learnt: 'port' };
    }
    const learnt = this.learnt.get(t, ip, port);
    if (learnt !== undefined && this.opts.registry.isEnabled(learnt.name)) return { reg: learnt, learnt: 'probe' };
    return undefined;
  }

  /** A pure SYN is a new connection unless it repeats the SYN that started the tracked one. */
  private isNewConnection(f: Flow, pkt: DecodedPacket): boolean {
    if (f.directionOf(pkt.src, pkt.srcPort) === 'toClient') return true;
    return f.clientIsn < 0 || f.clientIsn !== pkt.seq;
  }

  private evictOldest(ts: number): void {
    const a = this.tcpLru.oldest();
    const b = this.udpLru.oldest();
    const victim = a === null ? b : b === null ? a : a.lastTs <= b.lastTs ? a : b;
    if (victim === null) return;
    this.counters.inc('flow.evicted_capacity');
    this.close(victim, ts, 'evicted');
  }

  private expireList(list: LruList<Flow>, cutoff: number, nowTs: number): void {
    for (let f = list.oldest(); f !== null && f.lastTs <= cutoff; f = list.oldest()) this.close(f, nowTs, 'idle');
  }

  private close(f: Flow, ts: number, reason: FlowEndReason): void {
    if (f.toServer !== null && f.toClient !== null && f.mode !== 'ignored') {
      // Holes still open are reported before the end, so the analyzer can account for them.
      this.dispatcher.current = f;
      f.toServer.flush(ts, this.env);
      f.toClient.flush(ts, this.env);
      this.dispatcher.current = null;
    }
    this.dispatcher.end(f, ts, reason);
    this.release(f);
    this.flows.remove(f);
    (f.transport === 'tcp' ? this.tcpLru : this.udpLru).remove(f);
    if (f.closing) this.closing.delete(f);
    this.counters.inc(`flow.closed_${reason}`);
  }

  /** Drops reassembly state of a flow that is no longer analysed, returning its buffer budget. */
  private release(f: Flow): void {
    f.toServer?.discard(this.env);
    f.toClient?.discard(this.env);
    f.toServer = null;
    f.toClient = null;
    f.prober = null;
  }
}

interface Found {
  reg: AnalyzerRegistration;
  learnt: 'port' | 'probe';
}

interface Cidr {
  bytes: Buffer;
  prefix: number;
}

function addressBytes(text: string): Buffer | undefined {
  return parseIPv4(text) ?? parseIPv6(text);
}

/** The text the decoder produces for `text` (dotted IPv4, RFC 5952 IPv6), so filters match flow keys. */
function canonicalAddress(text: string): string | undefined {
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return `${v4[0]}.${v4[1]}.${v4[2]}.${v4[3]}`;
  const v6 = parseIPv6(text);
  return v6 === undefined ? undefined : formatIPv6(v6);
}

/** `a.b.c.d/n`, `v6/n` or a bare address; undefined when any entry is malformed. */
function parseCidrs(list: readonly string[]): Cidr[] | undefined {
  const out: Cidr[] = [];
  for (const text of list) {
    const slash = text.indexOf('/');
    const bytes = addressBytes(slash < 0 ? text : text.slice(0, slash));
    if (bytes === undefined) return undefined;
    const max = bytes.length * 8;
    const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= max)) return undefined;
    out.push({ bytes, prefix });
  }
  return out;
}

function cidrContains(c: Cidr, ip: Buffer): boolean {
  if (c.bytes.length !== ip.length) return false;
  let bits = c.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((c.bytes[i] ?? 0) & mask) !== ((ip[i] ?? 0) & mask)) return false;
  }
  return true;
}
