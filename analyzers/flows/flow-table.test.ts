import { describe, expect, it } from 'vitest';
import type { DatagramAnalyzerRegistration, StreamAnalyzerRegistration } from '../analyzer.js';
import type { AnalyzerEvent } from '../events.js';
import { buildFrame } from '../packet/build.js';
import { LinkType, TcpFlag } from '../packet/types.js';
import { AnalyzerRegistry } from '../registry.js';
import type { FlowLimits } from './limits.js';
import type { Pipeline } from './pipeline.js';
import { createPipeline } from './pipeline.js';
import { testLineRegistration } from './test-line-analyzer.js';

/** UDP test protocol: `PING n` from the client, `PONG n` back. */
const pingRegistration: DatagramAnalyzerRegistration = {
  name: 'testping',
  transport: 'udp',
  defaultPorts: [7001],
  probe: (_dir, bytes) => (bytes.toString('latin1').startsWith('PING ') ? 'match' : 'no'),
  create: (ctx) => {
    const sent = new Map<number, number>();
    return {
      confirmed: false,
      violated: false,
      onDatagram(dir, bytes, ts) {
        const [word, n] = bytes.toString('latin1').split(' ');
        const seq = Number(n);
        if (dir === 'toServer' && word === 'PING') {
          sent.set(seq, ts);
          ctx.emit({ kind: 'query', protocol: 'testping', server: ctx.flow.server, client: ctx.flow.client, ts, seq, keywords: [], maxResults: 0 });
        } else if (dir === 'toClient' && word === 'PONG' && sent.has(seq)) {
          ctx.emit({ kind: 'first_response', protocol: 'testping', server: ctx.flow.server, client: ctx.flow.client, ts, seq, queryTs: sent.get(seq) ?? 0 });
        } else {
          ctx.count('testping.bad_datagram');
        }
      },
      onEnd() {
        ctx.count('testping.end');
      },
    };
  },
};

interface Harness {
  p: Pipeline;
  events: AnalyzerEvent[];
  registry: AnalyzerRegistry;
  clock: { ts: number };
}

function harness(limits: Partial<FlowLimits> = {}, regs: (StreamAnalyzerRegistration | DatagramAnalyzerRegistration)[] = [testLineRegistration, pingRegistration]): Harness {
  const events: AnalyzerEvent[] = [];
  const registry = new AnalyzerRegistry(regs);
  const p = createPipeline({ registry, onEvent: (e) => events.push(e), limits });
  return { p, events, registry, clock: { ts: 1000 } };
}

/** One TCP connection driven segment by segment through real frames. */
class Conn {
  cseq: number;
  sseq: number;
  constructor(
    private readonly h: Harness,
    readonly client: { ip: string; port: number },
    readonly server: { ip: string; port: number },
    cIsn = 1000,
    sIsn = 50000,
  ) {
    this.cseq = cIsn;
    this.sseq = sIsn;
  }
  private send(fromClient: boolean, flags: number, data = '', seq?: number): void {
    const src = fromClient ? this.client : this.server;
    const dst = fromClient ? this.server : this.client;
    const s = seq ?? (fromClient ? this.cseq : this.sseq);
    const frame = buildFrame({
      ip: { src: src.ip, dst: dst.ip },
      tcp: { srcPort: src.port, dstPort: dst.port, seq: s >>> 0, ack: 0, flags, payload: data },
    });
    this.h.clock.ts += 1;
    this.h.p.handleFrame(LinkType.EN10MB, frame, this.h.clock.ts);
    const adv = data.length + ((flags & (TcpFlag.SYN | TcpFlag.FIN)) !== 0 ? 1 : 0);
    if (seq === undefined) {
      if (fromClient) this.cseq += adv;
      else this.sseq += adv;
    }
  }
  handshake(): this {
    this.send(true, TcpFlag.SYN);
    this.send(false, TcpFlag.SYN | TcpFlag.ACK);
    this.send(true, TcpFlag.ACK);
    return this;
  }
  c(data: string, seq?: number): void {
    this.send(true, TcpFlag.ACK | TcpFlag.PSH, data, seq);
  }
  s(data: string, seq?: number): void {
    this.send(false, TcpFlag.ACK | TcpFlag.PSH, data, seq);
  }
  /** Skips `n` client bytes as if a segment was lost. */
  loseClient(n: number): void {
    this.cseq += n;
  }
  finClient(): void {
    this.send(true, TcpFlag.ACK | TcpFlag.FIN);
  }
  finServer(): void {
    this.send(false, TcpFlag.ACK | TcpFlag.FIN);
  }
  rstClient(): void {
    this.send(true, TcpFlag.RST | TcpFlag.ACK);
  }
  ack(fromClient: boolean): void {
    this.send(fromClient, TcpFlag.ACK);
  }
}

const C = { ip: '10.0.0.1', port: 40001 };
const S = { ip: '10.0.0.9', port: 7000 };
const kinds = (events: AnalyzerEvent[]) => events.map((e) => e.kind);

describe('FlowTable: TCP flows on a known server port', () => {
  it('analyses a whole connection and closes it on FIN from both sides', () => {
    const h = harness();
    const c = new Conn(h, C, S).handshake();
    c.c('Q Foo\n');
    c.s('R a\nR b\n');
    c.s('E\n');
    expect(h.p.stats().flows).toBe(1);
    c.finClient();
    c.finServer();
    expect(kinds(h.events)).toEqual(['server_seen', 'query', 'first_response', 'query_done']);
    expect(h.events[0]).toMatchObject({ learnt: 'port', server: S });
    expect(h.events[1]).toMatchObject({ client: C, server: S, keywords: ['foo'], seq: 0 });
    expect(h.events[3]).toMatchObject({ results: 2 });
    expect(h.p.stats().flows).toBe(0);
    expect(h.p.counters.get('flow.closed_fin')).toBe(1);
  });

  it('starts mid-stream, taking the side on the server port as the server', () => {
    const h = harness();
    const c = new Conn(h, C, S);
    c.s('R late\nE\n'); // answer to a query we never saw
    c.c('Q next\n');
    c.s('R x\n');
    expect(kinds(h.events)).toEqual(['server_seen', 'query', 'first_response']);
    expect(h.events[1]).toMatchObject({ client: C, server: S });
    expect(h.p.counters.get('testline.unmatched_response')).toBe(2);
  });

  it('takes the SYN-ACK receiver as the client when the SYN was missed', () => {
    const h = harness({}, [testLineRegistration]);
    const client = { ip: '10.0.0.1', port: 2000 };
    const server = { ip: '10.0.0.9', port: 45000 }; // unknown, ephemeral-looking server port
    const c = new Conn(h, client, server);
    c.cseq++; // the SYN was sent but not captured
    h.clock.ts++;
    h.p.handleFrame(LinkType.EN10MB, buildFrame({ ip: { src: server.ip, dst: client.ip }, tcp: { srcPort: server.port, dstPort: client.port, seq: c.sseq, flags: TcpFlag.SYN | TcpFlag.ACK } }), h.clock.ts);
    c.sseq++;
    c.c('Q x\n');
    expect(h.events[1]).toMatchObject({ kind: 'query', client, server });
  });

  it('reassembles reordered and retransmitted segments before the analyzer sees them', () => {
    const h = harness();
    const c = new Conn(h, C, S).handshake();
    const base = c.cseq;
    c.c('ry\n', base + 5); // "Q que" + "ry\n" arrive in the wrong order
    c.c('Q que', base);
    c.c('Q que', base); // retransmission
    expect(h.events[1]).toMatchObject({ kind: 'query', keywords: ['query'] });
    expect(h.p.counters.get('reassembly.retransmitted')).toBe(1);
  });

  it('reports a lost segment as a gap at the FIN and resynchronises', () => {
    const h = harness();
    const c = new Conn(h, C, S).handshake();
    c.c('Q one\n');
    c.loseClient(6);
    c.c('Q three\n');
    c.finClient();
    c.finServer();
    expect(h.p.stats().closing).toBe(1);
    expect(kinds(h.events)).toEqual(['server_seen', 'query']);
    h.p.expire(h.clock.ts + h.p.flows.limits.closingMs);
    expect(h.p.counters.get('testline.gap')).toBe(1);
    expect(h.p.counters.get('reassembly.gap_at_end')).toBe(1);
    expect(h.p.stats().flows).toBe(0);
    expect(h.p.stats().bufferedBytes).toBe(0);
  });

  it('a retransmission that fills the hole before the timeout completes the flow normally', () => {
    const h = harness();
    const c = new Conn(h, C, S).handshake();
    const base = c.cseq;
    c.loseClient(6);
    c.c('Q two\n');
    c.finClient();
    c.finServer();
    expect(h.p.stats().closing).toBe(1);
    c.c('Q one\n', base);
    expect(h.p.stats().flows).toBe(0);
    expect(h.events.filter((e) => e.kind === 'query').map((e) => (e.kind === 'query' ? e.keywords[0] : ''))).toEqual(['one', 'two']);
  });

  it('closes on RST and tells the analyzer', () => {
    const h = harness();
    const c = new Conn(h, C, S).handshake();
    c.c('Q open\n');
    c.rstClient();
    expect(h.p.stats().flows).toBe(0);
    expect(h.p.counters.get('flow.closed_rst')).toBe(1);
    expect(h.p.counters.get('testline.unanswered_at_end')).toBe(1);
  });

  it('expires idle TCP and UDP flows by packet time, each with its own timeout', () => {
    const h = harness({ tcpIdleMs: 10_000, udpIdleMs: 1_000 });
    new Conn(h, C, S).handshake();
    h.p.handleFrame(LinkType.EN10MB, buildFrame({ ip: { src: C.ip, dst: S.ip }, udp: { srcPort: 5000, dstPort: 7001, payload: 'PING 1' } }), h.clock.ts);
    expect(h.p.stats()).toMatchObject({ tcpFlows: 1, udpFlows: 1 });
    h.p.expire(h.clock.ts + 999);
    expect(h.p.stats()).toMatchObject({ tcpFlows: 1, udpFlows: 1 });
    h.p.expire(h.clock.ts + 1000);
    expect(h.p.stats()).toMatchObject({ tcpFlows: 1, udpFlows: 0 });
    expect(h.p.counters.get('testping.end')).toBe(1);
    h.p.expire(h.clock.ts + 10_000);
    expect(h.p.stats().flows).toBe(0);
    expect(h.p.counters.get('flow.closed_idle')).toBe(2);
  });

  it('evicts the least recently used flow at capacity, counted', () => {
    const h = harness({ maxFlows: 3 });
    const conns = [1, 2, 3].map((i) => new Conn(h, { ip: C.ip, port: 40000 + i }, S).handshake());
    conns[0]!.c('Q keep\n'); // flow 1 is now more recent than flow 2
    new Conn(h, { ip: C.ip, port: 40004 }, S).handshake();
    expect(h.p.stats().flows).toBe(3);
    expect(h.p.counters.get('flow.evicted_capacity')).toBe(1);
    expect(h.p.counters.get('flow.closed_evicted')).toBe(1);
    conns[0]!.c('Q still\n');
    expect(h.events.filter((e) => e.kind === 'query')).toHaveLength(2);
  });

  it('ignores bare control segments of unknown flows', () => {
    const h = harness();
    new Conn(h, C, S).ack(true);
    expect(h.p.stats().flows).toBe(0);
    expect(h.p.counters.get('flow.untracked_control_segment')).toBe(1);
  });

  it('a new SYN on a tracked tuple starts a new connection; a repeated SYN does not', () => {
    const h = harness();
    const c = new Conn(h, C, S).handshake();
    c.c('Q a\n');
    h.p.handleFrame(LinkType.EN10MB, buildFrame({ ip: { src: C.ip, dst: S.ip }, tcp: { srcPort: C.port, dstPort: S.port, seq: 1000, flags: TcpFlag.SYN } }), ++h.clock.ts);
    expect(h.p.counters.get('flow.tuple_reused')).toBe(0);
    const again = new Conn(h, C, S, 777_000).handshake();
    again.c('Q b\n');
    expect(h.p.counters.get('flow.tuple_reused')).toBe(1);
    expect(h.events.filter((e) => e.kind === 'query').map((e) => (e.kind === 'query' ? e.seq : -1))).toEqual([0, 0]);
  });
});

describe('FlowTable: probing (dynamic protocol detection)', () => {
  const P = { ip: '10.0.0.50', port: 9999 }; // nobody names this port

  it('probes unknown ports, attaches on match, replays the probed bytes and learns the server', () => {
    const h = harness();
    const c = new Conn(h, C, P).handshake();
    c.c('Q');
    expect(h.p.stats().probing).toBe(1);
    c.c(' hello\n');
    expect(h.events[0]).toMatchObject({ kind: 'server_seen', learnt: 'probe', server: P });
    expect(h.events[1]).toMatchObject({ kind: 'query', keywords: ['hello'] });
    expect(h.p.flows.learntServers()).toEqual([{ transport: 'tcp', ip: P.ip, port: P.port, protocol: 'testline' }]);
    // A second client to the learnt server skips probing.
    const d = new Conn(h, { ip: '10.0.0.2', port: 40002 }, P).handshake();
    d.c('Q again\n');
    expect(h.p.counters.get('probe.matched.testline')).toBe(1);
    expect(h.p.counters.get('analyzer.attached.testline')).toBe(2);
    expect(h.events.filter((e) => e.kind === 'server_seen').map((e) => (e.kind === 'server_seen' ? e.learnt : ''))).toEqual(['probe', 'probe']);
  });

  it('stops probing when every probe says no, and releases the flow state', () => {
    const h = harness();
    const c = new Conn(h, C, P).handshake();
    c.c('GET / HTTP/1.0\r\n');
    c.c('Q looks like ours but too late\n');
    expect(h.events).toEqual([]);
    expect(h.p.counters.get('probe.no_match')).toBe(1);
    expect(h.p.stats()).toMatchObject({ flows: 1, ignored: 1, probing: 0 });
  });

  it('gives up at the probe byte bound', () => {
    const h = harness({ probeBytes: 8 });
    const c = new Conn(h, C, P).handshake();
    c.c('Q'.slice(0, 1)); // need-more
    c.s('E'); // need-more from the other side
    c.c('QQQQQQQQQQ');
    expect(h.p.counters.get('probe.no_match') + h.p.counters.get('probe.gave_up_bound')).toBe(1);
  });

  it('a probe that says no on the second segment stops probing', () => {
    const h = harness();
    const c = new Conn(h, C, P).handshake();
    c.c('Q'); // the probe needs more
    c.c('x\nQ y\n'); // "Qx" is not "Q ": no
    expect(h.p.counters.get('probe.no_match')).toBe(1);
    expect(h.events).toEqual([]);
  });

  it('drops an analyzer that reports a violation, and forgets a server it was learnt for', () => {
    const h = harness();
    new Conn(h, C, P).handshake().c('Q learn\n');
    expect(h.p.flows.learntServers()).toHaveLength(1);
    const d = new Conn(h, { ip: '10.0.0.3', port: 40003 }, P).handshake();
    d.c('junk\nmore junk\neven more\nQ late\n');
    expect(h.p.counters.get('analyzer.violation.testline')).toBe(1);
    expect(h.p.counters.get('probe.learnt_forgotten')).toBe(1);
    expect(h.p.flows.learntServers()).toEqual([]);
    expect(h.events.filter((e) => e.kind === 'query')).toHaveLength(1);
    // The violating flow is only tracked now; its later bytes reach nobody.
    d.c('Q after\n');
    expect(h.events.filter((e) => e.kind === 'query')).toHaveLength(1);
    expect(h.p.stats()).toMatchObject({ ignored: 1 });
  });

  it('probes UDP datagrams and attaches the datagram analyzer', () => {
    const h = harness();
    const send = (src: { ip: string; port: number }, dst: { ip: string; port: number }, payload: string) =>
      h.p.handleFrame(LinkType.EN10MB, buildFrame({ ip: { src: src.ip, dst: dst.ip }, udp: { srcPort: src.port, dstPort: dst.port, payload } }), ++h.clock.ts);
    const client = { ip: '2001:db8::1', port: 50000 };
    const node = { ip: '2001:db8::2', port: 51413 };
    send(client, node, 'PING 1');
    send(node, client, 'PONG 1');
    expect(kinds(h.events)).toEqual(['query', 'first_response']);
    expect(h.events[0]).toMatchObject({ client, server: node });
    expect(h.p.flows.learntServers()).toEqual([{ transport: 'udp', ip: node.ip, port: node.port, protocol: 'testping' }]);
  });
});

describe('FlowTable: registry changes and misbehaving analyzers', () => {
  it('disabling an analyzer ends it on open flows and stops choosing it', () => {
    const h = harness();
    const c = new Conn(h, C, S).handshake();
    c.c('Q one\n');
    h.registry.disable('testline');
    c.c('Q two\n');
    expect(h.events.filter((e) => e.kind === 'query')).toHaveLength(1);
    expect(h.p.counters.get('analyzer.disabled_midflow.testline')).toBe(1);
    new Conn(h, { ip: C.ip, port: 40009 }, S).handshake().c('Q three\n');
    expect(h.events.filter((e) => e.kind === 'query')).toHaveLength(1);
    h.registry.enable('testline');
    new Conn(h, { ip: C.ip, port: 40010 }, S).handshake().c('Q four\n');
    expect(h.events.filter((e) => e.kind === 'query')).toHaveLength(2);
  });

  it('an analyzer that throws is removed and counted; the pipeline goes on', () => {
    const throwing: StreamAnalyzerRegistration = {
      name: 'thrower',
      transport: 'tcp',
      defaultPorts: [7000],
      probe: () => 'no',
      create: () => ({
        confirmed: false,
        violated: false,
        onData() {
          throw new Error('bug');
        },
        onGap() {},
        onEnd() {
          throw new Error('bug at end');
        },
      }),
    };
    const h = harness({}, [throwing]);
    const c = new Conn(h, C, S).handshake();
    c.c('anything');
    c.c('more');
    c.finClient();
    c.finServer();
    expect(h.p.counters.get('analyzer.exception.thrower')).toBe(1);
    expect(h.p.stats().flows).toBe(0);
  });

  it('closeAll ends every flow with shutdown', () => {
    const h = harness();
    new Conn(h, C, S).handshake().c('Q x\n');
    new Conn(h, { ip: C.ip, port: 1 }, S).handshake();
    h.p.closeAll(h.clock.ts);
    expect(h.p.stats().flows).toBe(0);
    expect(h.p.counters.get('flow.closed_shutdown')).toBe(2);
    expect(h.p.counters.get('testline.unanswered_at_end')).toBe(1);
  });
});

describe('FlowTable: scale', () => {
  it('tracks 100,000 concurrent flows', () => {
    const h = harness();
    const frame = buildFrame({ ip: { src: '10.1.0.0', dst: '10.200.0.1' }, tcp: { srcPort: 1, dstPort: 7000, flags: TcpFlag.SYN } });
    for (let i = 0; i < 100_000; i++) {
      // Vary source address and port in place: no new frame per flow.
      frame.writeUInt16BE(i & 0xffff, 14 + 12 + 2);
      frame.writeUInt16BE(1024 + (i >> 16), 14 + 20);
      h.p.handleFrame(LinkType.EN10MB, frame, i);
    }
    expect(h.p.stats()).toMatchObject({ flows: 100_000, analyzing: 100_000, bufferedBytes: 0 });
    h.p.expire(100_000 + h.p.flows.limits.tcpIdleMs);
    expect(h.p.stats().flows).toBe(0);
  });
});

describe('FlowTable: tcpSessions (what a forged RST must carry)', () => {
  const session = (h: Harness, filter: Parameters<Pipeline['flows']['tcpSessions']>[0]) => h.p.flows.tcpSessions(filter);

  it('reports the next sequence number each side expects after data both ways', () => {
    const h = harness();
    const c = new Conn(h, C, S).handshake();
    c.c('Q Foo\n');
    c.s('R a\nE\n');
    c.ack(true);
    expect(session(h, { serverIp: S.ip, serverPort: S.port })).toEqual([
      { client: C, server: S, nextSeqToServer: 1000 + 1 + 6, nextSeqToClient: 50000 + 1 + 6 },
    ]);
    expect(session(h, { serverIp: S.ip, serverPort: S.port })[0]).toMatchObject({ nextSeqToServer: c.cseq, nextSeqToClient: c.sseq });
  });

  it.each([
    { name: 'client sequence wraps past 2^32', cIsn: 0xfffffffe, sIsn: 7, data: 'Q wrap\n' },
    { name: 'server sequence wraps past 2^32', cIsn: 5, sIsn: 0xffffffff, data: 'Q x\n' },
    { name: 'ISNs at zero', cIsn: 0, sIsn: 0, data: 'Q zero\n' },
  ])('counts modulo 2^32: $name', ({ cIsn, sIsn, data }) => {
    const h = harness();
    const c = new Conn(h, C, S, cIsn, sIsn).handshake();
    c.c(data);
    c.s('E\n');
    const [s] = session(h, { serverIp: S.ip, serverPort: S.port });
    expect(s?.nextSeqToServer).toBe((cIsn + 1 + data.length) >>> 0);
    expect(s?.nextSeqToClient).toBe((sIsn + 1 + 2) >>> 0);
  });

  it('counts held out-of-order data and one past a FIN', () => {
    const h = harness();
    const c = new Conn(h, C, S).handshake();
    const base = c.cseq;
    c.c('ry\n', base + 5); // held: "Q que" not yet seen
    expect(session(h, { serverIp: S.ip, serverPort: S.port })[0]?.nextSeqToServer).toBe(base + 8);
    c.c('Q que', base);
    c.cseq = base + 8;
    c.finServer();
    expect(session(h, { serverIp: S.ip, serverPort: S.port })[0]).toMatchObject({ nextSeqToServer: base + 8, nextSeqToClient: 50000 + 2 });
  });

  it('leaves a direction never seen undefined', () => {
    const h = harness();
    const c = new Conn(h, C, S);
    c.c('Q only-client\n'); // mid-stream, the server never answers in the capture
    expect(session(h, { serverIp: S.ip, serverPort: S.port })).toEqual([
      { client: C, server: S, nextSeqToServer: 1000 + 14, nextSeqToClient: undefined },
    ]);
  });

  it('keeps no sequence state for flows no analyzer looks at', () => {
    const h = harness({}, [pingRegistration]); // no TCP analyzer: TCP flows are only tracked
    new Conn(h, C, S).handshake().c('hello\n');
    expect(session(h, { serverIp: S.ip, serverPort: S.port })).toEqual([
      { client: C, server: S, nextSeqToServer: undefined, nextSeqToClient: undefined },
    ]);
  });

  it('forgets a session once it was reset', () => {
    const h = harness();
    const c = new Conn(h, C, S).handshake();
    c.c('Q x\n');
    c.rstClient();
    expect(session(h, { serverIp: S.ip, serverPort: S.port })).toEqual([]);
  });

  describe('selection', () => {
    const clients = [
      { ip: '10.0.0.1', port: 40001 },
      { ip: '10.0.0.77', port: 40002 },
      { ip: '10.1.0.5', port: 40003 },
    ];
    const setup = (): Harness => {
      const h = harness();
      for (const cl of clients) new Conn(h, cl, S).handshake().c('Q a\n');
      new Conn(h, clients[0] ?? C, { ip: S.ip, port: 7001 }).handshake(); // other port
      new Conn(h, clients[0] ?? C, { ip: '10.0.0.8', port: S.port }).handshake(); // other server
      h.p.handleFrame(LinkType.EN10MB, buildFrame({ ip: { src: C.ip, dst: S.ip }, udp: { srcPort: 5000, dstPort: S.port, payload: 'x' } }), 1);
      return h;
    };
    it.each([
      { name: 'all clients', clientCidrs: undefined, except: undefined, want: [40001, 40002, 40003] },
      { name: 'empty lists mean any', clientCidrs: [], except: [], want: [40001, 40002, 40003] },
      { name: 'a /24', clientCidrs: ['10.0.0.0/24'], except: undefined, want: [40001, 40002] },
      { name: 'a single address', clientCidrs: ['10.1.0.5'], except: undefined, want: [40003] },
      { name: 'a /24 with one host excepted', clientCidrs: ['10.0.0.0/24'], except: ['10.0.0.77/32'], want: [40001] },
      { name: 'only an except', clientCidrs: undefined, except: ['10.0.0.0/8'], want: [] },
      { name: '/0 selects all', clientCidrs: ['0.0.0.0/0'], except: undefined, want: [40001, 40002, 40003] },
      { name: 'an IPv6 CIDR matches no IPv4 client', clientCidrs: ['::/0'], except: undefined, want: [] },
      { name: 'non-byte prefix /15', clientCidrs: ['10.0.0.0/15'], except: ['10.1.0.0/16'], want: [40001, 40002] },
    ])('$name', ({ clientCidrs, except, want }) => {
      const h = setup();
      const got = session(h, { serverIp: S.ip, serverPort: S.port, ...(clientCidrs ? { clientCidrs } : {}), ...(except ? { except } : {}) });
      expect(got.map((s) => s.client.port).sort()).toEqual(want);
      for (const s of got) expect(s.server).toEqual(S);
    });

    it.each([
      { name: 'bad server address', filter: { serverIp: '10.0.0.999', serverPort: S.port } },
      { name: 'bad CIDR', filter: { serverIp: S.ip, serverPort: S.port, clientCidrs: ['10.0.0.0/33'] } },
      { name: 'bad except (must not widen)', filter: { serverIp: S.ip, serverPort: S.port, except: ['nonsense'] } },
      { name: 'bad prefix text', filter: { serverIp: S.ip, serverPort: S.port, clientCidrs: ['10.0.0.0/'] } },
    ])('selects nothing and counts a malformed filter: $name', ({ filter }) => {
      const h = setup();
      expect(session(h, filter)).toEqual([]);
      expect(h.p.counters.get('flow.session_query_bad_filter')).toBe(1);
    });
  });

  it('matches an IPv6 server written in any valid text form', () => {
    const h = harness();
    const server = { ip: '2001:db8::9', port: S.port };
    const client = { ip: '2001:db8::1', port: 40001 };
    new Conn(h, client, server).handshake().c('Q six\n');
    const got = session(h, { serverIp: '2001:DB8:0:0::9', serverPort: S.port, clientCidrs: ['2001:db8::/64'] });
    expect(got).toEqual([{ client, server, nextSeqToServer: 1000 + 1 + 6, nextSeqToClient: 50001 }]);
  });
});
