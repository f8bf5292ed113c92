/**
 * Orchestration of the active-control integration test (issue 5, "Done
 * when"): the paper's Fig. 4 topology (test-net/topologies/paper.ts) in
 * network namespaces, the real OpenNap origin on net A, net A and net B peer
 * workloads, the real daemon on the router (the built CLI in dist/), and the
 * read-outs the test asserts on: the daemon's status file and logs, the
 * router's iptables-save and conntrack table, the origin's search counter,
 * the peers' search logs, and a net A probe client.
 *
 * Traffic flows only between the namespaces this bed creates; iptables and
 * conntrack are only read or changed inside its router namespace.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSearchLog } from '../../opennap/search-log.js';
import type { SearchLogRecord } from '../../opennap/search-log.js';
import { Testbed } from '../testbed.js';
import { PAPER_SERVER_ADDR, paperPeerAddress, paperTopology } from '../topologies/paper.js';
import type { ProbeOutput } from './a-side-probe.js';
import { WatchedChild, waitUntil } from './child.js';
import { ChildProcessFailedError, CliMissingError } from './errors.js';
import { originSearchesOf, peerReconnectsOf } from './measures.js';
import type { CounterSample } from './measures.js';
import { B_SEARCH_RATE_PER_PEER, ORIGIN_PORT } from './policy.js';

/** The repository root, from this file's place (test-net/active-control). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const CLI_PATH = join(REPO_ROOT, 'dist/daemon/cli/main.js');
export const PROBE_PATH = join(REPO_ROOT, 'dist/test-net/active-control/a-side-probe.js');

/** Net B peers: peer8 … peer13, one process each so each has its own address. */
export const B_PEERS = [8, 9, 10, 11, 12, 13] as const;
/** The net A workload runs on this host; the probe on another, so its login is a distinct address. */
export const A_PEERS_HOST = 'peer2';
export const PROBE_HOST = 'peer1';
/** Net A peers in the one workload process, searching slowly: they share net A's files, their load never crosses the router. */
export const A_PEER_COUNT = 3;
export const A_SEARCH_RATE_PER_PEER = 0.5;
/** Origin stats line period: the origin's search counter is sampled this often. */
export const ORIGIN_STATS_INTERVAL_S = 1;
/** Long enough for any run; the test stops the workloads itself. */
export const WORKLOAD_DURATION_S = 600;

/** Node start-up of a child on a busy 2-core machine, plus its first output. */
export const CHILD_READY_TIMEOUT_MS = 20_000;
/** SIGTERM → SIGKILL grace: the daemon removes its rules on the way out; peers let their searches finish. */
export const DAEMON_STOP_GRACE_MS = 10_000;
export const PEERS_STOP_GRACE_MS = 15_000;
export const CHILD_STOP_GRACE_MS = 3_000;
/** A one-shot command in a namespace (iptables-save, conntrack, the probe). */
export const COMMAND_TIMEOUT_MS = 20_000;

export interface TimelineEntry {
  ts: number;
  server: string;
  kind: string;
  detail: string;
  data?: Record<string, unknown>;
}

export interface StatusDoc {
  now: number;
  dryRun: boolean;
  servers: { address: string; qrAvg: number | null; phase?: string }[];
  services: { id: string; listen: string; stats: Record<string, number> }[];
  redirects: { id: string; server: string; to: string }[];
  timeline: TimelineEntry[];
}

/** Builds the probe script (and what it imports) into dist/, the way the daemon's CLI is built. */
export function compileProbe(): void {
  execFileSync(
    process.execPath,
    [
      join(REPO_ROOT, 'node_modules/typescript/bin/tsc'),
      ...['--outDir', 'dist', '--rootDir', '.', '--module', 'nodenext', '--moduleResolution', 'nodenext'],
      ...['--target', 'es2022', '--lib', 'es2023', '--strict', '--skipLibCheck', '--types', 'node', '--sourceMap'],
      // Emit only: type errors are tsconfig.check.json's business, and one in a file being edited elsewhere must not stop this run.
      '--noCheck',
      'test-net/active-control/a-side-probe.ts',
    ],
    { cwd: REPO_ROOT, stdio: 'pipe' },
  );
}

export interface PeerRun {
  readonly host: string;
  readonly n: number;
  readonly logPath: string;
  readonly child: WatchedChild;
}

export interface PeersStopped {
  /** Search log per host. */
  readonly records: Map<string, SearchLogRecord[]>;
  /** `reconnects=` of each host's summary (null when the summary line is missing). */
  readonly reconnects: Map<string, number | null>;
}

/** One daemon process (`active-router run`) on the router. */
export class DaemonRun {
  constructor(
    readonly child: WatchedChild,
    readonly statusPath: string,
  ) {}

  /** The status file as written last; null before the first write or while unreadable. */
  status(): StatusDoc | null {
    try {
      return JSON.parse(readFileSync(this.statusPath, 'utf8')) as StatusDoc;
    } catch {
      return null;
    }
  }

  /** The daemon's JSON log lines (pino on stderr); lines that are not JSON are skipped. */
  logs(): { at: number; msg: string; fields: Record<string, unknown> }[] {
    const out: { at: number; msg: string; fields: Record<string, unknown> }[] = [];
    for (const l of this.child.stderr) {
      try {
        const o = JSON.parse(l.text) as Record<string, unknown>;
        out.push({ at: l.at, msg: typeof o.msg === 'string' ? o.msg : '', fields: o });
      } catch {
        // Not a log record (e.g. a policy issue printed plainly): ignored here, kept in the tail.
      }
    }
    return out;
  }

  /** Resolves once the daemon logs that it runs (after its start-up reconcile of stale rules). */
  async waitRunning(timeoutMs = CHILD_READY_TIMEOUT_MS): Promise<number> {
    const line = await this.child.waitForLine('stderr', (t) => t.includes('"active-router running'), timeoutMs);
    return line.at;
  }

  /** The first timeline entry of `kind` at or after `since` (ms since the epoch), from the status file. */
  waitTimeline(kind: string, since: number, timeoutMs: number): Promise<TimelineEntry> {
    return waitUntil(
      `daemon timeline entry "${kind}" after ${new Date(since).toISOString()}`,
      timeoutMs,
      () => {
        if (!this.child.running) throw new ChildProcessFailedError(this.child.name, `exited while waiting for "${kind}":\n${this.child.tail()}`);
        return this.status()?.timeline.find((e) => e.kind === kind && e.ts >= since);
      },
      100,
      () => `timeline: ${JSON.stringify(this.status()?.timeline ?? null)}\n${this.child.tail()}`,
    );
  }
}

export class ActiveControlBed {
  private constructor(
    readonly tb: Testbed,
    readonly workDir: string,
    readonly origin: WatchedChild,
    readonly aPeers: WatchedChild,
  ) {}

  /** Brings up the topology, the origin and the net A workload. On failure takes everything down and rethrows. */
  static async up(workDir: string): Promise<ActiveControlBed> {
    if (!existsSync(CLI_PATH)) throw new CliMissingError(CLI_PATH);
    const tb = await Testbed.up(paperTopology());
    try {
      const origin = new WatchedChild(
        'origin',
        tb.spawn('server', process.execPath, [CLI_PATH, 'opennap', 'serve', '--port', String(ORIGIN_PORT), '--host', PAPER_SERVER_ADDR, '--stats-interval', String(ORIGIN_STATS_INTERVAL_S)], {
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      await origin.waitForLine('stdout', (t) => t.includes('listening on'), CHILD_READY_TIMEOUT_MS);
      const aPeers = new WatchedChild('net A peers', tb.spawn(A_PEERS_HOST, process.execPath, peersArgs(A_PEER_COUNT, A_SEARCH_RATE_PER_PEER, 'A', join(workDir, 'net-a.jsonl'), `${A_PEERS_HOST}_`, 2), { stdio: ['ignore', 'pipe', 'pipe'] }));
      return new ActiveControlBed(tb, workDir, origin, aPeers);
    } catch (err) {
      await tb.down();
      throw err;
    }
  }

  /** The origin's cumulative search counter as sampled from its stats lines. */
  originSamples(): CounterSample[] {
    const out: CounterSample[] = [];
    for (const l of this.origin.stdout) {
      const v = originSearchesOf(l.text);
      if (v !== null) out.push({ at: l.at, value: v });
    }
    return out;
  }

  /** Starts one net B workload process per B host (rate B_SEARCH_RATE_PER_PEER each). */
  startBPeers(round: string): PeerRun[] {
    return B_PEERS.map((n) => {
      const host = `peer${n}`;
      const logPath = join(this.workDir, `${round}-${host}.jsonl`);
      const child = new WatchedChild(`${round} ${host}`, this.tb.spawn(host, process.execPath, peersArgs(1, B_SEARCH_RATE_PER_PEER, 'B', logPath, `${host}_`, n), { stdio: ['ignore', 'pipe', 'pipe'] }));
      return { host, n, logPath, child };
    });
  }

  /** Stops the workloads (SIGTERM: they finish their searches, write their logs and a summary) and reads their logs. */
  async stopPeers(peers: readonly PeerRun[]): Promise<PeersStopped> {
    await Promise.all(peers.map((p) => p.child.stop(PEERS_STOP_GRACE_MS)));
    const records = new Map<string, SearchLogRecord[]>();
    const reconnects = new Map<string, number | null>();
    for (const p of peers) {
      records.set(p.host, existsSync(p.logPath) ? (await readSearchLog(p.logPath)).records : []);
      const line = p.child.stdout.find((l) => peerReconnectsOf(l.text) !== null);
      reconnects.set(p.host, line === undefined ? null : peerReconnectsOf(line.text));
    }
    return { records, reconnects };
  }

  /** Search records written so far (the log is flushed every SEARCH_LOG_FLUSH_MS). */
  async peekLog(p: PeerRun): Promise<SearchLogRecord[]> {
    return existsSync(p.logPath) ? (await readSearchLog(p.logPath)).records : [];
  }

  /** Starts `active-router run` on the router with a fresh status file. */
  startDaemon(name: string, o: { policyPath: string; dbPath: string; activeAfterS: number; statusListen: string; dryRun?: boolean }): DaemonRun {
    const statusPath = join(this.workDir, `${name}.status.json`);
    const args = [CLI_PATH, 'run', '--policy', o.policyPath, '--db', o.dbPath, '--status', o.statusListen, '--status-file', statusPath, '--active-after', String(o.activeAfterS)];
    if (o.dryRun === true) args.push('--dry-run');
    const child = new WatchedChild(name, this.tb.spawn('router', process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    return new DaemonRun(child, statusPath);
  }

  /** `iptables-save` in the router namespace (the daemon's backend is the default `iptables`). */
  async iptablesSave(table?: 'nat' | 'filter'): Promise<string> {
    const r = await this.tb.exec('router', 'iptables-save', table === undefined ? [] : ['-t', table], { timeoutMs: COMMAND_TIMEOUT_MS });
    if (r.code !== 0) throw new ChildProcessFailedError('iptables-save', `exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /**
   * Both iptables back ends' view (nf_tables and legacy): a rule of ours in
   * the back end the daemon did not pick would still be live, so "clean"
   * must hold in both.
   */
  async iptablesSaveBothBackends(): Promise<string> {
    const out: string[] = [];
    for (const cmd of ['iptables-nft-save', 'iptables-legacy-save']) {
      const r = await this.tb.exec('router', cmd, [], { timeoutMs: COMMAND_TIMEOUT_MS });
      if (r.code !== 0) throw new ChildProcessFailedError(cmd, `exit ${r.code}: ${r.stderr}`);
      out.push(r.stdout);
    }
    return out.join('\n');
  }

  /** The router's conntrack entries of TCP flows to the origin's port. */
  async conntrackToOrigin(): Promise<string> {
    const r = await this.tb.exec('router', 'conntrack', ['-L', '-p', 'tcp', '--dport', String(ORIGIN_PORT)], { timeoutMs: COMMAND_TIMEOUT_MS });
    if (r.code !== 0) throw new ChildProcessFailedError('conntrack -L', `exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** Runs the net A probe: search for `keywords` on the origin, then 203 for every result. */
  async probe(nick: string, keywords: readonly string[]): Promise<ProbeOutput> {
    const r = await this.tb.exec(PROBE_HOST, process.execPath, [PROBE_PATH, `${PAPER_SERVER_ADDR}:${ORIGIN_PORT}`, nick, ...keywords], { timeoutMs: COMMAND_TIMEOUT_MS });
    const last = r.stdout.trim().split('\n').pop() ?? '';
    let parsed: unknown;
    try {
      parsed = JSON.parse(last);
    } catch {
      throw new ChildProcessFailedError('probe', `no JSON output (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
    if (r.code !== 0 || typeof parsed !== 'object' || parsed === null || !('results' in parsed)) {
      throw new ChildProcessFailedError('probe', `failed (exit ${r.code}): ${last}\n${r.stderr}`);
    }
    return parsed as ProbeOutput;
  }

  writeFile(name: string, text: string): string {
    const p = join(this.workDir, name);
    writeFileSync(p, text);
    return p;
  }

  /** Stops the origin and net A peers gently, then takes the test bed down (which kills anything left). */
  async down(): Promise<void> {
    try {
      await Promise.all([this.aPeers.stop(CHILD_STOP_GRACE_MS), this.origin.stop(CHILD_STOP_GRACE_MS)]);
    } finally {
      await this.tb.down();
    }
  }
}

/** Address of a B peer host by its number (peerN → 10.201.2.(10+N)). */
export function bPeerAddress(n: number): string {
  return paperPeerAddress(n);
}

function peersArgs(count: number, rate: number, group: 'A' | 'B', out: string, nickPrefix: string, seed: number): string[] {
  return [CLI_PATH, 'opennap', 'peers', '--server', `${PAPER_SERVER_ADDR}:${ORIGIN_PORT}`, '--count', String(count), '--rate', String(rate), '--catalogue', 'paper', '--group', group, '--duration', String(WORKLOAD_DURATION_S), '--out', out, '--nick-prefix', nickPrefix, '--seed', String(seed)];
}
