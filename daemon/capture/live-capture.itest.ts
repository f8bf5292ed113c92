// Live capture in a network namespace made by this test: two namespaces joined by a veth
// (10.213.x.0/24), LiveCapture runs in one (child process via `ip netns exec`), the other sends a
// known number of UDP datagrams and TCP connection attempts; captured counts must equal sent
// counts and the kernel drop counters must be read (0 at this rate). Needs root (CAP_NET_ADMIN).
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBpfFilter } from './bpf-filter.js';
import type { InterfaceCaptureStats } from './live-capture.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const tag = `arcap-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
const nsCap = `${tag}-c`;
const nsSend = `${tag}-s`;
const subnet = `10.213.${Math.floor(Math.random() * 250) + 1}`;
const capIp = `${subnet}.1`;
const sendIp = `${subnet}.2`;
const vethCap = `ac${process.pid % 100000}c`;
const vethSend = `ac${process.pid % 100000}s`;
const UDP_PORT = 46881;
const TCP_PORT = 48888;
const UDP_COUNT = 3000;
const TCP_COUNT = 40;
const UDP_PAYLOAD = 200;
const SNAPLEN = 64;

let workDir = '';
let child: ChildProcessWithoutNullStreams | undefined;
const childLines: Record<string, unknown>[] = [];
const waiters: (() => void)[] = [];

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function teardown(): void {
  if (child && child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
  for (const ns of [nsCap, nsSend]) {
    try {
      sh('ip', ['netns', 'del', ns]); // deletes the veth pair with it
    } catch {
      // not created
    }
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}

/** Resolves with the first child line satisfying `pred`. */
function waitLine(pred: (o: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`timeout waiting for child; last lines: ${JSON.stringify(childLines.slice(-3))}`)), timeoutMs);
    const check = (): boolean => {
      const hit = childLines.find((l) => pred(l) || 'fatal' in l);
      if (!hit) return false;
      clearTimeout(t);
      if ('fatal' in hit) rej(new Error(`child failed: ${String(hit.fatal)}`));
      else res(hit);
      return true;
    };
    const retry = (): void => {
      if (!check()) waiters.push(retry);
    };
    retry();
  });
}

const senderScript = `
import dgram from 'node:dgram';
import net from 'node:net';
const [host, udpPort, udpCount, udpPayload, tcpPort, tcpCount] = process.argv.slice(1);
const sock = dgram.createSocket('udp4');
const payload = Buffer.alloc(Number(udpPayload), 0x61);
for (let i = 0; i < Number(udpCount); i++) {
  await new Promise((res, rej) => sock.send(payload, Number(udpPort), host, (e) => (e ? rej(e) : res())));
  // Bursts of 50 then a pause: a steady ~20k packets/s, well inside what the default ring absorbs.
  if (i % 50 === 49) await new Promise((res) => setTimeout(res, 2));
}
sock.close();
let refused = 0;
for (let i = 0; i < Number(tcpCount); i++) {
  await new Promise((res) => {
    const s = net.connect(Number(tcpPort), host);
    s.on('error', (e) => { if (e.code === 'ECONNREFUSED') refused++; res(); });
    s.on('connect', () => { s.destroy(); res(); });
  });
}
process.stdout.write(JSON.stringify({ refused }) + '\\n');
`;

describe('LiveCapture in a network namespace', () => {
  beforeAll(() => {
    process.on('exit', teardown);
    sh('ip', ['netns', 'add', nsCap]);
    sh('ip', ['netns', 'add', nsSend]);
    sh('ip', ['-n', nsCap, 'link', 'add', vethCap, 'type', 'veth', 'peer', 'name', vethSend, 'netns', nsSend]);
    sh('ip', ['-n', nsCap, 'addr', 'add', `${capIp}/24`, 'dev', vethCap]);
    sh('ip', ['-n', nsSend, 'addr', 'add', `${sendIp}/24`, 'dev', vethSend]);
    for (const [ns, dev] of [
      [nsCap, vethCap],
      [nsSend, vethSend],
    ] as const) {
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }

    // Build the child script and its imports (only daemon/capture) into a temp dir that
    // resolves packages through a node_modules link.
    workDir = mkdtempSync(join(tmpdir(), `${tag}-`));
    symlinkSync(join(repo, 'node_modules'), join(workDir, 'node_modules'));
    writeFileSync(join(workDir, 'package.json'), '{"type":"module"}\n');
    execFileSync(
      process.execPath,
      [
        join(repo, 'node_modules/typescript/bin/tsc'),
        '--outDir', join(workDir, 'out'),
        '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
        '--strict', '--skipLibCheck', '--types', 'node',
        join(repo, 'daemon/capture/live-capture-child.ts'),
      ],
      { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // Static neighbour entries: no datagram waits in (or overflows) the ARP queue.
    const mac = (ns: string, dev: string): string => (JSON.parse(sh('ip', ['-n', ns, '-j', 'link', 'show', dev])) as { address: string }[])[0]?.address ?? '';
    sh('ip', ['-n', nsSend, 'neigh', 'replace', capIp, 'lladdr', mac(nsCap, vethCap), 'dev', vethSend, 'nud', 'permanent']);
    sh('ip', ['-n', nsCap, 'neigh', 'replace', sendIp, 'lladdr', mac(nsSend, vethSend), 'dev', vethCap, 'nud', 'permanent']);
  });

  afterAll(() => {
    teardown();
    process.off('exit', teardown);
  });

  it('captures exactly what was sent, with kernel counters and no drops', async () => {
    const filter = buildBpfFilter({
      servers: [{ ip: capIp, port: TCP_PORT, transport: 'tcp' }],
      ports: [{ port: UDP_PORT, transport: 'udp' }],
      learn: false,
    });
    const args = { iface: vethCap, filter, udpPort: UDP_PORT, snaplen: SNAPLEN };
    const c = spawn('ip', ['netns', 'exec', nsCap, process.execPath, join(workDir, 'out/live-capture-child.js'), JSON.stringify(args)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child = c;
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: c.stdout }).on('line', (line) => {
      try {
        childLines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        childLines.push({ fatal: `bad line ${line}` });
      }
      for (const w of waiters.splice(0)) w();
    });
    c.on('exit', (code) => {
      if (code !== 0) childLines.push({ fatal: `child exited ${code}: ${stderr}` });
      for (const w of waiters.splice(0)) w();
    });

    const ready = await waitLine((l) => l.ready === true, 30_000);
    expect(ready.errors).toEqual({
      noSuchIface: 'NoSuchInterfaceError/CAPTURE_NO_SUCH_INTERFACE',
      badFilter: 'BpfFilterError/CAPTURE_BAD_FILTER',
    });

    const sent = sh('ip', [
      'netns', 'exec', nsSend, process.execPath, '--input-type=module', '-e', senderScript,
      capIp, String(UDP_PORT), String(UDP_COUNT), String(UDP_PAYLOAD), String(TCP_PORT), String(TCP_COUNT),
    ]);
    expect(JSON.parse(sent)).toEqual({ refused: TCP_COUNT });

    // Each refused connection is one SYN in and one RST out.
    const expected = UDP_COUNT + 2 * TCP_COUNT;
    await waitLine((l) => typeof l.progress === 'number' && l.progress >= expected, 20_000);
    // Let the short-ring capture drain: two progress reports in a row without change.
    const seen = childLines.length;
    await waitLine((l) => {
      const i = childLines.indexOf(l);
      const prev = childLines[i - 1];
      return i > seen && prev !== undefined && typeof l.short === 'number' && l.short === prev.short && l.progress === prev.progress;
    }, 20_000);
    c.stdin.write('stop\n');
    const done = await waitLine((l) => l.done === true, 20_000);

    const full = done.full as Record<string, number | boolean>;
    expect(full).toMatchObject({ frames: expected, udp: UDP_COUNT, tcpSyn: TCP_COUNT, tcpRst: TCP_COUNT, other: 0, tsMonotonic: true });
    // Ethernet 14 + IPv4 20 + UDP 8 + payload.
    expect(full.maxLen).toBe(14 + 20 + 8 + UDP_PAYLOAD);
    const fullStats = done.fullStats as InterfaceCaptureStats;
    expect(fullStats).toMatchObject({
      received: expected,
      kernelDrops: 0,
      ifaceDrops: 0,
      delivered: expected,
      truncated: 0,
      callbackErrors: 0,
      linkType: 1,
      kernelStatsAvailable: true,
    });
    expect(fullStats.kernelStatsProblem).toBeUndefined();
    // stats() read part of the counters before stop, the rest was read at stop: the sum is exact.
    expect((done.statsBeforeStop as InterfaceCaptureStats).received).toBeLessThanOrEqual(expected);

    // The second capture has a 4 MiB ring. With GSO on the veth each slot is ~64 KiB (cap's
    // kernel snap length is 65535), so ~60 slots: it may drop, and every drop must be counted.
    const short = done.short as Record<string, number>;
    const shortStats = done.shortStats as InterfaceCaptureStats;
    expect(short.maxLen).toBe(SNAPLEN);
    expect(short.udp).toBe(short.frames);
    expect(shortStats).toMatchObject({ received: UDP_COUNT, delivered: short.frames, truncated: short.frames, kernelStatsAvailable: true });
    expect(shortStats.delivered + shortStats.kernelDrops).toBe(UDP_COUNT);

    const wallStart = done.wallStart as number;
    expect(full.lastTs as number).toBeGreaterThan(wallStart);
    expect(full.lastTs as number).toBeLessThan(Date.now() + 1000);
    await new Promise<void>((res) => (c.exitCode !== null ? res() : c.on('exit', () => res())));
    expect(c.exitCode).toBe(0);
  });
});
