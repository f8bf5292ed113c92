import { describe, expect, it } from 'vitest';
import { ServerSpecError, UnknownAnalyzerError } from '../errors.js';
import type { AnalyzerEvent } from '../events.js';
import { buildFrame } from '../packet/build.js';
import { LinkType, TcpFlag } from '../packet/types.js';
import { AnalyzerRegistry } from '../registry.js';
import { InvalidFlowLimitsError } from '../errors.js';
import { createPipeline, serverLookup } from './pipeline.js';
import { testLineRegistration } from './test-line-analyzer.js';

const registry = () => new AnalyzerRegistry([testLineRegistration]);

function query(p: ReturnType<typeof createPipeline>, src: string, dst: string, dstPort: number, ts: number): void {
  p.handleFrame(LinkType.EN10MB, buildFrame({ ip: { src, dst }, tcp: { srcPort: 40000, dstPort, seq: 1, flags: TcpFlag.ACK, payload: 'Q x\n' } }), ts);
}

describe('createPipeline', () => {
  it('decodes frames, counts drops, and feeds flows', () => {
    const events: AnalyzerEvent[] = [];
    const p = createPipeline({ registry: registry(), onEvent: (e) => events.push(e) });
    query(p, '10.0.0.1', '10.0.0.2', 7000, 1);
    p.handleFrame(LinkType.EN10MB, Buffer.alloc(10), 2);
    expect(p.stats()).toMatchObject({ frames: 2, packets: 1, flows: 1, analyzing: 1 });
    expect(p.counters.get('packet.truncated_ethernet')).toBe(1);
    expect(events.map((e) => e.kind)).toEqual(['server_seen', 'query']);
  });

  it('handleFrameBytes: frames given as offsets into one buffer give the events and counts of the frames alone', () => {
    const frames = [
      buildFrame({ ip: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { srcPort: 40000, dstPort: 7000, seq: 1, flags: TcpFlag.ACK, payload: 'Q a\nQ b' } }),
      Buffer.alloc(10),
      buildFrame({ ip: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { srcPort: 40000, dstPort: 7000, seq: 8, flags: TcpFlag.ACK, payload: '\nQ c\n' } }),
      buildFrame({ ip: { src: '10.0.0.2', dst: '10.0.0.1' }, tcp: { srcPort: 7000, dstPort: 40000, seq: 1, flags: TcpFlag.ACK, payload: 'R a 3\n' } }),
    ];
    const alone: AnalyzerEvent[] = [];
    const a = createPipeline({ registry: registry(), onEvent: (e) => alone.push(e) });
    frames.forEach((f, i) => a.handleFrame(LinkType.EN10MB, f, i));
    // Junk between the frames: a decoder reading past a frame's end would see it.
    const junk = Buffer.alloc(7, 0x45);
    const joined = Buffer.concat(frames.flatMap((f) => [junk, f]));
    const spans: [number, number][] = [];
    let at = 0;
    for (const f of frames) {
      at += junk.length;
      spans.push([at, at + f.length]);
      at += f.length;
    }
    const inside: AnalyzerEvent[] = [];
    const b = createPipeline({ registry: registry(), onEvent: (e) => inside.push(e) });
    spans.forEach(([start, end], i) => b.handleFrameBytes(LinkType.EN10MB, joined, start, end, i));
    expect(alone.map((e) => e.kind)).toContain('query');
    expect(inside).toEqual(alone);
    expect(b.counters.snapshot()).toEqual(a.counters.snapshot());
    expect(b.stats()).toEqual(a.stats());
  });

  it('uses policy server entries: host-specific, any-host, and default ports unless switched off', () => {
    const events: AnalyzerEvent[] = [];
    const p = createPipeline({
      registry: registry(),
      onEvent: (e) => events.push(e),
      servers: [
        { transport: 'tcp', port: 8000, protocol: 'testline', ip: '2001:DB8:0:0::9' },
        { transport: 'tcp', port: 8001, protocol: 'testline' },
      ],
      useDefaultPorts: false,
    });
    query(p, '2001:db8::1', '2001:db8::9', 8000, 1); // matches the host entry (written non-canonically)
    query(p, '10.0.0.1', '10.0.0.7', 8001, 2); // any host
    query(p, '10.0.0.1', '10.0.0.7', 7000, 3); // default port switched off: probed instead
    expect(events.filter((e) => e.kind === 'server_seen').map((e) => (e.kind === 'server_seen' ? e.learnt : ''))).toEqual(['port', 'port', 'probe']);
  });

  it('configure: new server entries and self-study for the flows that follow; a bad entry changes nothing', () => {
    const events: AnalyzerEvent[] = [];
    const p = createPipeline({ registry: registry(), onEvent: (e) => events.push(e), useDefaultPorts: false, probe: false });
    const seen = (): (string | number)[][] => events.flatMap((e) => (e.kind === 'server_seen' ? [[e.server.port, e.learnt]] : []));
    query(p, '10.0.0.1', '10.0.0.7', 8001, 1);
    expect(seen()).toEqual([]);
    p.configure({ servers: [{ transport: 'tcp', port: 8001, protocol: 'testline' }], probe: false });
    query(p, '10.0.0.2', '10.0.0.7', 8001, 2);
    expect(seen()).toEqual([[8001, 'port']]);
    expect(() => p.configure({ servers: [{ transport: 'tcp', port: 0, protocol: 'testline' }], probe: true })).toThrow(ServerSpecError);
    query(p, '10.0.0.3', '10.0.0.7', 8002, 3); // still no self-study: the refused call changed nothing
    query(p, '10.0.0.4', '10.0.0.7', 8001, 4);
    expect(seen()).toEqual([[8001, 'port'], [8001, 'port']]);
    p.configure({ servers: [], probe: true });
    query(p, '10.0.0.5', '10.0.0.7', 8002, 5);
    expect(seen()).toEqual([[8001, 'port'], [8001, 'port'], [8002, 'probe']]);
  });

  it('rejects bad server entries and limits with coded errors', () => {
    const r = registry();
    expect(() => serverLookup(r, [{ transport: 'tcp', port: 1, protocol: 'nope' }], true)).toThrow(UnknownAnalyzerError);
    expect(() => serverLookup(r, [{ transport: 'udp', port: 1, protocol: 'testline' }], true)).toThrow(ServerSpecError);
    expect(() => serverLookup(r, [{ transport: 'tcp', port: 70000, protocol: 'testline' }], true)).toThrow(ServerSpecError);
    expect(() => serverLookup(r, [{ transport: 'tcp', port: 1, protocol: 'testline', ip: 'host.example' }], true)).toThrow(ServerSpecError);
    expect(() => createPipeline({ registry: r, onEvent: () => {}, limits: { maxFlows: 0 } })).toThrow(InvalidFlowLimitsError);
    expect(() => createPipeline({ registry: r, onEvent: () => {}, limits: { maxBufferedPerFlow: 10, maxBufferedTotal: 5 } })).toThrow(
      InvalidFlowLimitsError,
    );
  });

  it('never throws on random frames of any link type', () => {
    const p = createPipeline({ registry: registry(), onEvent: () => {} });
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const good = buildFrame({ ip: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { srcPort: 1, dstPort: 7000, payload: 'Q a\nR b\n' } });
    for (let i = 0; i < 20_000; i++) {
      const frame = Buffer.from(good);
      for (let k = 0; k < 3; k++) frame[rnd() % frame.length] = rnd();
      p.handleFrame([LinkType.EN10MB, LinkType.RAW, LinkType.LINUX_SLL][i % 3]!, frame, i);
    }
    p.expire(1e9);
    expect(p.stats().frames).toBe(20_000);
  });
});
