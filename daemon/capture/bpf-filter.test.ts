// Filter builder: expected expressions (table), libpcap compiles them, tcpdump -d accepts them,
// and running the compiled program over synthetic frames accepts/rejects what it should.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_SERVER_TERMS, buildBpfFilter, planBpfFilter } from './bpf-filter.js';
import type { BpfFilterSpec } from './bpf-filter.js';
import { CaptureConfigError } from './errors.js';
import { LINKTYPE_ETHERNET } from './link-types.js';
import { compileBpfFilter, matchBpfFilter } from './native.js';
import { PcapWriter } from './pcap-writer.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, tcpFrame, udpFrame } from './test-frames.js';

const none: BpfFilterSpec = { servers: [], ports: [], learn: false, vlan: false };

describe('buildBpfFilter expressions', () => {
  const table: { name: string; spec: BpfFilterSpec; expected: string }[] = [
    { name: 'one tcp port', spec: { ...none, ports: [{ port: 8888, transport: 'tcp' }] }, expected: 'tcp port 8888' },
    {
      name: 'ports grouped and merged into ranges',
      spec: {
        ...none,
        ports: [
          { port: 6882, transport: 'udp' },
          { port: 8888, transport: 'tcp' },
          { port: 6881, transport: 'udp' },
          { port: 6883, transport: 'udp' },
          { port: 8875, transport: 'tcp' },
          { port: 8888, transport: 'tcp' },
        ],
      },
      expected: 'tcp port 8875 or tcp port 8888 or udp portrange 6881-6883',
    },
    {
      name: 'server with host',
      spec: { ...none, ports: [{ port: 8888, transport: 'tcp' }], servers: [{ ip: '10.0.0.1', port: 9999, transport: 'tcp' }] },
      expected: 'tcp port 8888 or (host 10.0.0.1 and tcp port 9999)',
    },
    {
      name: 'server covered by a port term is left out',
      spec: { ...none, ports: [{ port: 8888, transport: 'tcp' }], servers: [{ ip: '10.0.0.1', port: 8888, transport: 'tcp' }] },
      expected: 'tcp port 8888',
    },
    {
      name: 'ipv6 server',
      spec: { ...none, servers: [{ ip: '2001:db8::1', port: 8888, transport: 'tcp' }] },
      expected: '(host 2001:db8::1 and tcp port 8888)',
    },
    {
      name: 'vlan repeats the expression',
      spec: { ...none, vlan: true, ports: [{ port: 6881, transport: 'udp' }] },
      expected: '(udp port 6881) or (vlan and (udp port 6881))',
    },
    {
      name: 'vlan defaults on',
      spec: { servers: [], ports: [{ port: 6881, transport: 'udp' }], learn: false },
      expected: '(udp port 6881) or (vlan and (udp port 6881))',
    },
  ];
  it.each(table)('$name', ({ spec, expected }) => {
    expect(buildBpfFilter(spec)).toBe(expected);
  });

  it('learn adds tcp-with-payload (v4, v6) and udp terms', () => {
    const f = buildBpfFilter({ ...none, learn: true });
    expect(f).toContain('tcp[tcpflags]');
    expect(f).toContain('ip6[53]');
    expect(f.endsWith(' or udp')).toBe(true);
  });

  it('too many servers widen to port terms, and say so', () => {
    const servers = Array.from({ length: MAX_SERVER_TERMS + 1 }, (_, i) => ({ ip: `10.1.${i >> 8}.${i & 255}`, port: 8888, transport: 'tcp' as const }));
    const plan = planBpfFilter({ ...none, servers });
    expect(plan).toEqual({ expression: 'tcp port 8888', broadened: 'servers_to_ports' });
  });

  it('too many scattered ports widen to the whole transport', () => {
    const ports = Array.from({ length: 100 }, (_, i) => ({ port: 1000 + i * 2, transport: 'udp' as const }));
    expect(planBpfFilter({ ...none, ports })).toEqual({ expression: 'udp', broadened: 'ports_to_transport' });
  });

  const bad: { name: string; spec: BpfFilterSpec }[] = [
    { name: 'empty', spec: none },
    { name: 'port 0', spec: { ...none, ports: [{ port: 0, transport: 'tcp' }] } },
    { name: 'port 65536', spec: { ...none, ports: [{ port: 65536, transport: 'udp' }] } },
    { name: 'bad transport', spec: { ...none, ports: [{ port: 1, transport: 'sctp' as 'tcp' }] } },
    { name: 'bad ip', spec: { ...none, servers: [{ ip: '10.0.0', port: 1, transport: 'tcp' }] } },
    { name: 'injection attempt', spec: { ...none, servers: [{ ip: '10.0.0.1 or 1=1', port: 1, transport: 'tcp' }] } },
  ];
  it.each(bad)('rejects $name with CaptureConfigError', ({ spec }) => {
    expect(() => buildBpfFilter(spec)).toThrow(CaptureConfigError);
  });
});

const full: BpfFilterSpec = {
  servers: [
    { ip: '10.0.0.1', port: 9999, transport: 'tcp' },
    { ip: 'fd00::7', port: 7777, transport: 'udp' },
  ],
  ports: [
    { port: 8888, transport: 'tcp' },
    { port: 6881, transport: 'udp' },
  ],
  learn: true,
};

describe('generated filters compile', () => {
  const specs: BpfFilterSpec[] = [
    full,
    { ...full, vlan: false },
    { ...full, learn: false },
    { servers: [], ports: [], learn: true },
    { servers: [], ports: Array.from({ length: 48 }, (_, i) => ({ port: 2000 + 3 * i, transport: 'tcp' as const })), learn: true },
  ];
  it.each(specs.map((s, i) => ({ i, s })))('libpcap compiles spec #$i within the kernel limit', ({ s }) => {
    const r = compileBpfFilter(buildBpfFilter(s), LINKTYPE_ETHERNET);
    expect(r.kind).toBe('ok');
    if (r.kind === 'ok') expect(r.instructions).toBeLessThanOrEqual(4096);
  });

  const dir = mkdtempSync(join(tmpdir(), 'arcap-bpf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('tcpdump -d accepts the full filter (compiled against an Ethernet pcap file, no device opened)', () => {
    const file = join(dir, 'empty.pcap');
    PcapWriter.open(file, { linkType: LINKTYPE_ETHERNET }).close();
    const out = execFileSync('tcpdump', ['-d', '-r', file, buildBpfFilter(full)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toMatch(/ret\s+#0/);
  });

  it('a broken expression is reported, not thrown', () => {
    const r = compileBpfFilter('tcp port (', LINKTYPE_ETHERNET);
    expect(r.kind).toBe('error');
  });
});

describe('generated filters accept and reject the right frames', () => {
  const payload = Buffer.from('hello');
  const cases: { name: string; frame: Buffer; spec: BpfFilterSpec; match: boolean }[] = [
    { name: 'tcp to known port', frame: tcpFrame('10.9.0.2', 40000, '10.9.0.1', 8888, TCP_ACK), spec: { ...full, learn: false }, match: true },
    { name: 'tcp from known port', frame: tcpFrame('10.9.0.1', 8888, '10.9.0.2', 40000, TCP_ACK, payload), spec: { ...full, learn: false }, match: true },
    { name: 'tcp to other port', frame: tcpFrame('10.9.0.2', 40000, '10.9.0.1', 8080, TCP_ACK, payload), spec: { ...full, learn: false }, match: false },
    { name: 'server host and port', frame: tcpFrame('10.9.0.2', 40000, '10.0.0.1', 9999, TCP_SYN), spec: { ...full, learn: false }, match: true },
    { name: 'server port, other host', frame: tcpFrame('10.9.0.2', 40000, '10.0.0.2', 9999, TCP_SYN), spec: { ...full, learn: false }, match: false },
    { name: 'ipv6 udp server', frame: udpFrame('fd00::9', 5000, 'fd00::7', 7777, payload), spec: { ...full, learn: false }, match: true },
    { name: 'vlan-tagged known port', frame: udpFrame('10.9.0.2', 5000, '10.9.0.1', 6881, payload, { vlan: 42 }), spec: { ...full, learn: false }, match: true },
    {
      name: 'vlan-tagged, vlan off',
      frame: udpFrame('10.9.0.2', 5000, '10.9.0.1', 6881, payload, { vlan: 42 }),
      spec: { ...full, learn: false, vlan: false },
      match: false,
    },
    { name: 'learn: v4 tcp payload, unknown port', frame: tcpFrame('10.9.0.2', 40000, '10.9.0.1', 1234, TCP_ACK | TCP_PSH, payload), spec: full, match: true },
    { name: 'learn: v4 pure ack, unknown port', frame: tcpFrame('10.9.0.2', 40000, '10.9.0.1', 1234, TCP_ACK), spec: full, match: false },
    { name: 'learn: v4 syn', frame: tcpFrame('10.9.0.2', 40000, '10.9.0.1', 1234, TCP_SYN), spec: full, match: true },
    { name: 'learn: v4 fin', frame: tcpFrame('10.9.0.2', 40000, '10.9.0.1', 1234, TCP_FIN | TCP_ACK), spec: full, match: true },
    { name: 'learn: v4 rst', frame: tcpFrame('10.9.0.2', 40000, '10.9.0.1', 1234, TCP_RST), spec: full, match: true },
    { name: 'learn: v6 tcp payload', frame: tcpFrame('fd00::2', 40000, 'fd00::1', 1234, TCP_ACK, payload), spec: full, match: true },
    { name: 'learn: v6 pure ack', frame: tcpFrame('fd00::2', 40000, 'fd00::1', 1234, TCP_ACK), spec: full, match: false },
    { name: 'learn: v6 syn', frame: tcpFrame('fd00::2', 40000, 'fd00::1', 1234, TCP_SYN), spec: full, match: true },
    { name: 'learn: udp any port', frame: udpFrame('10.9.0.2', 5000, '10.9.0.1', 1234, payload), spec: full, match: true },
    { name: 'learn: vlan v4 payload', frame: tcpFrame('10.9.0.2', 40000, '10.9.0.1', 1234, TCP_ACK, payload, { vlan: 7 }), spec: full, match: true },
    { name: 'learn: vlan v4 pure ack', frame: tcpFrame('10.9.0.2', 40000, '10.9.0.1', 1234, TCP_ACK, undefined, { vlan: 7 }), spec: full, match: false },
  ];
  it.each(cases)('$name → $match', ({ frame, spec, match }) => {
    const r = matchBpfFilter(buildBpfFilter(spec), LINKTYPE_ETHERNET, [frame]);
    expect(r).toEqual({ kind: 'ok', matches: [match] });
  });
});
