/**
 * Live-capture benchmark (issue 3): does the daemon's capture keep up with
 * 100,000 packets/s without kernel drops? In a pair topology it creates
 * (client ─ router ─ server namespaces, offloads off), the generated OpenNap
 * capture (bench/generate-opennap-capture.ts) is replayed with tcpreplay from
 * the client namespace onto its veth at a fixed rate, while the daemon
 * (`active-router run`, measure-only policy) captures on the router's facing
 * interface. The daemon's status file gives the capture statistics
 * (`capture.<iface>.received`, `kernelDrops`, `delivered` = frames processed);
 * /proc gives how much of a core its main thread (capture and analysis) and
 * all its threads used per second of sending: under 100 % for the main thread
 * means it keeps that rate up indefinitely, not only while its ring has room.
 * The frames carry addresses of the capture, not of the test bed: the router
 * sees them (packet sockets see frames for other hosts) and drops them; they
 * never leave the namespaces this script made, which it removes at the end.
 *
 *   apt-get install -y tcpreplay   # once
 *   node dist/bench/live-capture.js [--packets N] [--pps R] [--buffer-mb M] [--capture FILE] [--out DIR]
 *
 * Needs root (namespaces, packet sockets). Writes `bench-out/live-capture.json`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, stopChild, watchChild } from '../test-net/experiment/child-process.js';
import { Testbed } from '../test-net/testbed.js';
import { PAIR_ROUTER_IF_CLIENT, pairTopology } from '../test-net/topologies/pair.js';
import { DEFAULT_PACKETS, writeOpenNapCapture } from './generate-opennap-capture.js';
import { positiveInt, readOptions } from './bench-args.js';
import { cpuSeconds } from './proc-cpu.js';
import { DEFAULTS } from '../policies/defaults.js';

/** The target rate of issue 3. */
export const TARGET_PPS = 100_000;
/**
 * Packets replayed by default: ten seconds at the target rate. The ring holds well under a second of
 * them, so a daemon slower than the sender on average cannot finish without kernel drops.
 */
export const DEFAULT_LIVE_PACKETS = 1_000_000;
/** Kernel capture buffer of the daemon (policy capture.bufferMB): the policy default (policies/defaults.ts). */
export const DEFAULT_BUFFER_MB = DEFAULTS.captureBufferMB;
/** Status file poll period. The daemon rewrites it every second. */
const POLL_MS = 250;
/** The daemon is done when `delivered` has not moved for this long after the sender finished. */
const QUIET_MS = 3_000;
/** Upper bound on waiting for the daemon to catch up after the sender finished. */
const DRAIN_LIMIT_MS = 120_000;
const START_TIMEOUT_MS = 20_000;
/** Inside the router namespace: its own loopback. */
const STATUS_LISTEN = '127.0.0.1:9912';

/** Locally administered MACs no interface of the test bed has (see rewrittenCapture). */
const WIRE_SRC_MAC = '02:00:00:00:ee:01';
const WIRE_DST_MAC = '02:00:00:00:ee:02';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const CLI = join(ROOT, 'dist/daemon/cli/main.js');
/** Extra node flags for the daemon (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`), to profile it under load. */
const DAEMON_NODE_ARGS = (process.env.AR_BENCH_DAEMON_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);

interface Args {
  packets: number;
  pps: number;
  bufferMB: number;
  capture: string;
  out: string;
}

interface CaptureSample {
  at: number;
  received: number;
  kernelDrops: number;
  ifaceDrops: number;
  delivered: number;
}

function parseArgs(argv: readonly string[]): Args {
  const o = readOptions(argv, { packets: 'string', pps: 'string', 'buffer-mb': 'string', capture: 'string', out: 'string' });
  const out = typeof o.out === 'string' ? resolve(o.out) : join(ROOT, 'bench-out');
  return {
    packets: positiveInt('packets', o.packets, DEFAULT_LIVE_PACKETS),
    pps: positiveInt('pps', o.pps, TARGET_PPS),
    bufferMB: positiveInt('buffer-mb', o['buffer-mb'], DEFAULT_BUFFER_MB),
    capture: typeof o.capture === 'string' ? resolve(o.capture) : join(ROOT, 'bench-out', `opennap-sessions-${DEFAULT_PACKETS}-s1.pcap`),
    out,
  };
}

function policyYaml(iface: string, bufferMB: number, dbPath: string): string {
  return [
    '# bench/live-capture.ts: measure only.',
    `interfaces: [${iface}]`,
    `capture: { snaplen: 65535, bufferMB: ${bufferMB} }`,
    'learn: false',
    'protocols:',
    '  opennap: { enabled: true, ports: [8888] }',
    '  dht: { enabled: false }',
    '  grid: { enabled: false }',
    'dryRun: true',
    'rules:',
    '  - name: never-crossed',
    '    metric: both',
    '    high: { responseTimeMs: 600000, queryRate: 10000000 }',
    '    low: { responseTimeMs: 300000, queryRate: 5000000 }',
    `status: { listen: '${STATUS_LISTEN}' }`,
    `database: { path: '${dbPath}' }`,
    '',
  ].join('\n');
}

/** The capture statistics of `iface` from the daemon's status file; null while there is none. */
function readCapture(statusFile: string, iface: string): CaptureSample | null {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(statusFile, 'utf8'));
  } catch {
    return null; // not written yet, or caught mid-rename
  }
  const c = (doc as { capture?: Record<string, Partial<CaptureSample>> }).capture?.[iface];
  if (c === undefined) return null;
  return { at: Date.now(), received: c.received ?? 0, kernelDrops: c.kernelDrops ?? 0, ifaceDrops: c.ifaceDrops ?? 0, delivered: c.delivered ?? 0 };
}

/**
 * The capture with one fixed source MAC and a destination MAC nobody has: the test bed's switch
 * (a learning bridge) then floods every frame to the router. With the generator's two MACs, the
 * bridge would learn both on the sender's port and drop the frames there. Made once, then reused.
 */
function rewrittenCapture(capture: string): string {
  const out = capture.replace(/\.pcap$/, '') + '.wire.pcap';
  if (existsSync(out)) return out;
  const r = spawnSync('tcprewrite', [`--enet-smac=${WIRE_SRC_MAC}`, `--enet-dmac=${WIRE_DST_MAC}`, `--infile=${capture}`, `--outfile=${out}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tcprewrite failed (${String(r.status)}): ${r.stderr}`);
  return out;
}

/** tcpreplay's summary: "Actual: N packets (B bytes) sent in S seconds" and "Rated: … X pps". */
function parseTcpreplay(text: string): { sent: number; seconds: number; pps: number } | null {
  const actual = /Actual:\s+(\d+)\s+packets.*?sent in\s+([\d.]+)\s+seconds/s.exec(text);
  const rated = /Rated:.*?([\d.]+)\s+pps/s.exec(text);
  if (actual === null) return null;
  const sent = Number(actual[1]);
  const seconds = Number(actual[2]);
  return { sent, seconds, pps: rated !== null ? Number(rated[1]) : sent / seconds };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('live-capture needs root (network namespaces, packet sockets)');
  if (spawnSync('tcpreplay', ['--version']).status !== 0) throw new Error('tcpreplay is not installed: apt-get install -y tcpreplay');
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: build first (npx tsc -p tsconfig.json)`);
  mkdirSync(args.out, { recursive: true });
  if (!existsSync(args.capture)) {
    process.stdout.write(`generating ${args.capture} ...\n`);
    writeOpenNapCapture(args.capture, { mode: 'sessions', seed: 1, packets: DEFAULT_PACKETS });
  }

  const dir = mkdtempSync(join(tmpdir(), 'ar-live-bench-'));
  const statusFile = join(dir, 'status.json');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, policyYaml(PAIR_ROUTER_IF_CLIENT, args.bufferMB, join(dir, 'state.db')));
  const tb = await Testbed.up(pairTopology());
  try {
    const senderIf = tb.interfaceOf('client').ifname;
    const daemon = watchChild('daemon', tb.spawn('router', process.execPath, [...DAEMON_NODE_ARGS, CLI, 'run', '--policy', policy, '--status', STATUS_LISTEN, '--status-file', statusFile], { stdio: ['ignore', 'pipe', 'pipe'] }), join(dir, 'daemon.log'));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (readCapture(statusFile, PAIR_ROUTER_IF_CLIENT) === null) {
      if (daemon.child.exitCode !== null) throw new Error(`daemon exited before its first status:\n${daemon.tail()}`);
      if (Date.now() > deadline) throw new Error(`no status within ${START_TIMEOUT_MS} ms:\n${daemon.tail()}`);
      await sleep(POLL_MS);
    }
    const before = readCapture(statusFile, PAIR_ROUTER_IF_CLIENT)!;

    const wire = rewrittenCapture(args.capture);
    process.stdout.write(`replaying ${args.packets} packets of ${args.capture} at ${args.pps} packets/s onto ${senderIf} (namespace ${tb.nsOf('client')})\n`);
    const samples: CaptureSample[] = [before];
    const poller = setInterval(() => {
      const s = readCapture(statusFile, PAIR_ROUTER_IF_CLIENT);
      if (s !== null) samples.push(s);
    }, POLL_MS);
    // The daemon's CPU while the sender runs: its main thread (capture and analysis) below 100 % of a
    // core means it keeps pace for as long as the load lasts, not only for as long as the ring holds.
    // `ip netns exec` execs the daemon, so the child's pid is the daemon's (and its main thread's id).
    const pid = daemon.child.pid ?? -1;
    const cpuBefore = { all: cpuSeconds(pid), main: cpuSeconds(pid, pid) };
    // -K preloads the file into memory so disk reads cannot slow the sender down (3–4 s for this
    // capture, before the first packet leaves: the daemon idles meanwhile).
    const sendStartedAt = Date.now();
    const send = await tb.exec('client', 'tcpreplay', ['-K', '-i', senderIf, `--pps=${args.pps}`, `--limit=${args.packets}`, wire], { timeoutMs: 10 * 60_000 });
    const sentAt = Date.now();
    if (send.code !== 0) throw new Error(`tcpreplay failed (${send.code}):\n${send.stderr}${send.stdout}`);
    const tcpreplay = parseTcpreplay(send.stdout + send.stderr);

    // Wait until the daemon has worked through what it received.
    let last = samples[samples.length - 1]!;
    let lastChange = Date.now();
    while (Date.now() - sentAt < DRAIN_LIMIT_MS) {
      await sleep(POLL_MS);
      const s = samples[samples.length - 1]!;
      if (s.delivered !== last.delivered || s.received !== last.received) {
        last = s;
        lastChange = Date.now();
      } else if (Date.now() - lastChange >= QUIET_MS) break;
    }
    clearInterval(poller);
    // CPU from before the send to when the daemon was done, over tcpreplay's own sending time: it
    // idles through the preload, and any catch-up after the last packet counts (a share above 1
    // would say the daemon could not keep this rate up).
    const cpuAfter = { all: cpuSeconds(pid), main: cpuSeconds(pid, pid) };
    const sendS = Math.max(0.001, tcpreplay?.seconds ?? (sentAt - sendStartedAt) / 1000);
    const share = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : (b - a) / sendS);
    const busy = { mainThread: share(cpuBefore.main, cpuAfter.main), allThreads: share(cpuBefore.all, cpuAfter.all) };
    const after = samples[samples.length - 1]!;
    await stopChild(daemon, 10_000);

    const received = after.received - before.received;
    const delivered = after.delivered - before.delivered;
    const kernelDrops = after.kernelDrops - before.kernelDrops;
    const ifaceDrops = after.ifaceDrops - before.ifaceDrops;
    // When the daemon was done: the first status sample with the final count, after the sender returned
    // (the status is rewritten every second and polled every POLL_MS, so this is good to about a second).
    const endSample = samples.find((s) => s.delivered === after.delivered) ?? after;
    const doneAfterSenderS = Math.max(0, (endSample.at - sentAt) / 1000);
    const result = {
      when: new Date().toISOString(),
      command: `node dist/bench/live-capture.js ${process.argv.slice(2).join(' ')}`.trim(),
      capture: args.capture,
      requested: { packets: args.packets, pps: args.pps, bufferMB: args.bufferMB },
      sender: tcpreplay,
      daemon: {
        received, delivered, kernelDrops, ifaceDrops, doneAfterSenderS, statusSamples: samples.length,
        /** Cores the daemon used per second of sending (1 = one core busy all the time). */
        coresWhileSending: busy,
      },
      keptUp: kernelDrops === 0 && ifaceDrops === 0 && delivered >= (tcpreplay?.sent ?? args.packets),
      target: { pps: TARGET_PPS, kernelDrops: 0 },
    };
    writeFileSync(join(args.out, 'live-capture.json'), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `  sender: ${tcpreplay === null ? 'no summary' : `${tcpreplay.sent} packets in ${tcpreplay.seconds.toFixed(2)} s = ${Math.round(tcpreplay.pps)} packets/s`}\n` +
        `  daemon: received ${received}, processed ${delivered}, kernel drops ${kernelDrops}, interface drops ${ifaceDrops}\n` +
        `  daemon: every frame processed ${doneAfterSenderS.toFixed(1)} s after the sender finished (status sampled about once a second)\n` +
        `  daemon CPU per second of sending: main thread ${pct(busy.mainThread)} of a core, all threads ${pct(busy.allThreads)}\n` +
        `  kept up: ${String(result.keptUp)}; wrote ${join(args.out, 'live-capture.json')}\n`,
    );
  } finally {
    await tb.down();
    rmSync(dir, { recursive: true, force: true });
  }
}

function pct(share: number | null): string {
  return share === null ? 'unknown' : `${Math.round(share * 100)} %`;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
