/**
 * Helper process for live-capture.itest.ts: run inside a test network
 * namespace (`ip netns exec NS node live-capture-child.js '<json>'`), it
 * checks the named open errors, runs two LiveCaptures (full frames and a
 * short snap length) on one interface, counts what they deliver, and on
 * "stop" (stdin) prints their statistics as one JSON line. Protocol on
 * stdout: `{"ready":true,...}`, `{"progress":n}` lines, then `{"done":...}`.
 */
import { createInterface } from 'node:readline';
import { CaptureError } from './errors.js';
import { LINKTYPE_ETHERNET } from './link-types.js';
import { LiveCapture } from './live-capture.js';

interface ChildArgs {
  iface: string;
  filter: string;
  udpPort: number;
  snaplen: number;
}

interface Counts {
  frames: number;
  udp: number;
  tcpSyn: number;
  tcpRst: number;
  other: number;
  maxLen: number;
  tsMonotonic: boolean;
  lastTs: number;
}

function emptyCounts(): Counts {
  return { frames: 0, udp: 0, tcpSyn: 0, tcpRst: 0, other: 0, maxLen: 0, tsMonotonic: true, lastTs: 0 };
}

/** Classifies an Ethernet/IPv4 frame by transport and TCP flags (RFC 791, RFC 9293 offsets). */
function classify(c: Counts, linkType: number, frame: Buffer, ts: number): void {
  c.frames++;
  c.maxLen = Math.max(c.maxLen, frame.length);
  if (ts < c.lastTs) c.tsMonotonic = false;
  c.lastTs = ts;
  if (linkType !== LINKTYPE_ETHERNET || frame.length < 34 || frame.readUInt16BE(12) !== 0x0800) {
    c.other++;
    return;
  }
  const ihl = ((frame[14] ?? 0) & 0x0f) * 4;
  const proto = frame[23];
  if (proto === 17) c.udp++;
  else if (proto === 6) {
    const flags = frame[14 + ihl + 13] ?? 0;
    if (flags & 0x02) c.tcpSyn++;
    else if (flags & 0x04) c.tcpRst++;
    else c.other++;
  } else c.other++;
}

async function errorName(f: () => Promise<void>): Promise<string> {
  try {
    await f();
    return 'no error';
  } catch (err) {
    return err instanceof CaptureError ? `${err.name}/${err.code}` : `unexpected: ${String(err)}`;
  }
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
  const out = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

  const errors = {
    noSuchIface: await errorName(() => new LiveCapture({ interfaces: ['arcapnope0'], filter: '', onFrameBytes: () => {} }).start()),
    badFilter: await errorName(() => new LiveCapture({ interfaces: [args.iface], filter: 'tcp port (', onFrameBytes: () => {} }).start()),
  };

  const full = emptyCounts();
  const short = emptyCounts();
  const fullCap = new LiveCapture({ interfaces: [args.iface], filter: args.filter, onFrameBytes: (lt, b, start, end, ts) => classify(full, lt, b.subarray(start, end), ts) });
  const shortCap = new LiveCapture({
    interfaces: [args.iface],
    filter: `udp port ${args.udpPort}`,
    snaplen: args.snaplen,
    bufferBytes: 4 * 1024 * 1024,
    onFrameBytes: (lt, b, start, end, ts) => classify(short, lt, b.subarray(start, end), ts),
  });
  await fullCap.start();
  await shortCap.start();
  const startedAt = Date.now();
  out({ ready: true, errors });

  const timer = setInterval(() => out({ progress: full.frames, short: short.frames }), 100);
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line.trim() === 'stop') break;
  }
  clearInterval(timer);
  const statsBeforeStop = fullCap.stats();
  await fullCap.stop();
  await shortCap.stop();
  out({
    done: true,
    full,
    short,
    fullStats: fullCap.stats()[args.iface],
    shortStats: shortCap.stats()[args.iface],
    statsBeforeStop: statsBeforeStop[args.iface],
    wallStart: startedAt,
  });
  rl.close();
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ fatal: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })}\n`);
  process.exitCode = 1;
});
