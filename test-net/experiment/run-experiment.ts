/**
 * The paper's experiment (seed 001 §5.3, Fig. 4–7) run for real: the Fig. 4
 * topology in network namespaces (test-net/topologies/paper.ts), the OpenNap
 * origin server on net A, one peer process per peer host (each with its own
 * address), and the real daemon on the router, a plain router until its
 * `--active-after` time and then deciding by itself. Records the peers'
 * search logs, the origin's search counter and the daemon's status, then
 * analyses (analyse.ts), plots (plots.ts) and compares with the paper
 * (paper-figures.ts). Everything is torn down at the end, on failure and on
 * SIGINT/SIGTERM (the test bed kills what runs inside its namespaces).
 *
 * Traffic only flows between the namespaces this run creates.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSearchLog } from '../../opennap/search-log.js';
import { Testbed } from '../testbed.js';
import { PAPER_NET_A_PEERS, PAPER_PEERS, PAPER_SERVER_ADDR, paperTopology } from '../topologies/paper.js';
import { analyse, countRulesLeft, runEnd } from './analyse.js';
import type { AnalysisInput, ExperimentResults, PeerLog } from './analyse.js';
import { sleep, stopChild, watchChild, within } from './child-process.js';
import type { WatchedChild } from './child-process.js';
import { mergeTimelines, parseDaemonStatus, proxySearches } from './daemon-status.js';
import type { TimelineEntry } from './daemon-status.js';
import { ExperimentCliMissingError, ExperimentProcessError } from './errors.js';
import { ORIGIN_PORT, ORIGIN_STATS_INTERVAL_S, STATUS_LISTEN, STATUS_POLL_MS, planExperiment } from './experiment-plan.js';
import type { ExperimentPlan } from './experiment-plan.js';
import { experimentPolicy } from './experiment-policy.js';
import { parseOriginSearches } from './origin-stats.js';
import { checkProperties, comparisonTable, propertiesTable } from './paper-figures.js';
import type { PropertyCheck } from './paper-figures.js';
import { plotData, renderFigures } from './plots.js';
import type { CounterSample } from './series.js';

/** Time for the origin server to print its listening line (node start-up on a busy 2-core machine). */
export const ORIGIN_READY_TIMEOUT_MS = 15_000;
/** Time for the daemon to write its first status file (capture, database, status writer). */
export const DAEMON_READY_TIMEOUT_MS = 20_000;
/** Extra time the peers get past their `--duration` to finish in-flight searches (each times out after 10 s) and exit. */
export const PEER_EXIT_SLACK_MS = 20_000;
/** SIGTERM → SIGKILL grace for the daemon: it removes its rules on the way out. */
export const DAEMON_STOP_GRACE_MS = 10_000;
/** SIGTERM → SIGKILL grace for the origin server and stray peers. */
export const CHILD_STOP_GRACE_MS = 3_000;
/**
 * Niceness of the two server-side processes, the origin server and the router's daemon (root may
 * raise priority; otherwise `nice` says so and runs them as they are). In the paper each host is its
 * own machine; here 13 peer processes share two cores with them, and a peer that runs when a server
 * should answer adds its wait to the response time of the before path (origin) or the after path
 * (daemon's proxy) at random. Both servers get the same priority, so the comparison stays even; the
 * remaining noise is the peers' own. Short runs (10 s before, 15 s after) on a noisy day:
 * after.p99 > before.p99 in 2 of 8 without it, in none of 21 with it.
 */
export const SERVER_NICENESS = -10;

/** `nice -n N command args…`: the spawn arguments that run a server-side process at SERVER_NICENESS. */
function asServer(command: string, args: readonly string[]): [string, string[]] {
  return ['nice', ['-n', String(SERVER_NICENESS), command, ...args]];
}

export interface RunExperimentOptions {
  /** Output directory: results.json, figures, and raw/ (logs, policy, state DB). */
  outDir: string;
  beforeS?: number;
  afterS?: number;
  durationScale?: number;
  /**
   * Runs the router as a plain router the whole time (no daemon): the
   * baseline, and the way to exercise the orchestration without the daemon.
   * The takeover properties then fail, as they should.
   */
  withoutDaemon?: boolean;
  /** Keep raw/ (peer logs, daemon and server logs, policy, state DB) after the analysis. */
  keepRaw?: boolean;
  /** The CLI to drive; default `<repo>/dist/daemon/cli/main.js`. */
  cliPath?: string;
  /** The node binary; default the running one. */
  nodePath?: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ExperimentOutcome {
  results: ExperimentResults;
  checks: PropertyCheck[];
  passed: boolean;
  files: string[];
  /** The test bed's prefix (its namespaces are `<prefix>-*`; all gone when this resolves). */
  prefix: string;
}

/**
 * The CLI beside this module: compiled (…/test-net/experiment/run-experiment.js)
 * the tree it sits in holds daemon/cli/main.js; run from the TypeScript
 * source (vitest) it is the build in <repo>/dist.
 */
export function defaultCliPath(): string {
  const url = import.meta.url;
  const root = resolve(dirname(fileURLToPath(url)), '..', '..');
  return url.endsWith('.ts') ? join(root, 'dist/daemon/cli/main.js') : join(root, 'daemon/cli/main.js');
}

interface Recorder {
  originSearches: CounterSample[];
  proxySearches: CounterSample[];
  timeline: TimelineEntry[];
  activeAt: number | null;
  statusReads: number;
  statusProblems: Set<string>;
  proxySessionsMax: number;
}

function readStatus(path: string, rec: Recorder): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return false;
  }
  const parsed = parseDaemonStatus(text);
  if (parsed.kind === 'error') {
    rec.statusProblems.add(parsed.message);
    return false;
  }
  const s = parsed.status;
  const at = Date.now();
  rec.statusReads++;
  for (const p of s.problems) rec.statusProblems.add(p);
  if (s.activeAt !== null) rec.activeAt = s.activeAt;
  rec.timeline = mergeTimelines(rec.timeline, s.timeline);
  const searches = proxySearches(s, PAPER_SERVER_ADDR);
  if (searches !== null) rec.proxySearches.push({ at, value: searches });
  for (const svc of s.services) rec.proxySessionsMax = Math.max(rec.proxySessionsMax, svc.sessions ?? 0);
  return true;
}

function peerHosts(): { host: string; group: 'A' | 'B'; n: number }[] {
  return Array.from({ length: PAPER_PEERS }, (_, i) => ({ host: `peer${i + 1}`, group: i + 1 <= PAPER_NET_A_PEERS ? ('A' as const) : ('B' as const), n: i + 1 }));
}

async function iptablesLeft(tb: Testbed): Promise<number> {
  let left = 0;
  // Both back ends: the daemon may use either, and a rule in the other one would still be live.
  for (const cmd of ['iptables-save', 'iptables-legacy-save', 'iptables-nft-save']) {
    const r = await tb.exec('router', cmd, []).catch(() => null);
    if (r !== null && r.code === 0) left = Math.max(left, countRulesLeft(r.stdout));
  }
  return left;
}

function describePlan(plan: ExperimentPlan, high: number, low: number, withoutDaemon: boolean): string[] {
  return [
    `paper experiment (seed 001 §5.3, Fig. 4): 7 peers + origin on net A, 6 peers on net B, active router between`,
    `time compressed ×${plan.timeCompression}: each peer searches every ${plan.searchPeriodS} s (paper: 2 s); the paper's 160 s of plain routing become ${plan.beforeS} s`,
    `expected load: net A ${plan.expectedNetARate}/s, net B ${plan.expectedNetBRate}/s; policy: query-rate high ${high}/s, low ${low}/s on eth-a`,
    withoutDaemon ? 'router: plain router for the whole run (no daemon: baseline)' : `router: plain router for ${plan.activeAfterS} s after the daemon starts, then active`,
  ];
}

export async function runExperiment(o: RunExperimentOptions): Promise<ExperimentOutcome> {
  const log = o.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const plan = planExperiment({ beforeS: o.beforeS, afterS: o.afterS, durationScale: o.durationScale });
  const outDir = resolve(o.outDir);
  const raw = join(outDir, 'raw');
  const cli = resolve(o.cliPath ?? defaultCliPath());
  const node = o.nodePath ?? process.execPath;
  if (!existsSync(cli)) throw new ExperimentCliMissingError(cli);
  mkdirSync(raw, { recursive: true });

  const policyPath = join(raw, 'policy.yaml');
  const pol = experimentPolicy({ plan, databasePath: join(raw, 'state.db') });
  writeFileSync(policyPath, pol.yaml);
  for (const line of describePlan(plan, pol.highQueryRate, pol.lowQueryRate, o.withoutDaemon ?? false)) log(line);

  const rec: Recorder = { originSearches: [], proxySearches: [], timeline: [], activeAt: null, statusReads: 0, statusProblems: new Set(), proxySessionsMax: 0 };
  const statusPath = join(raw, 'status.json');
  const origin = `${PAPER_SERVER_ADDR}:${ORIGIN_PORT}`;
  let runStartedAt = 0;
  let rulesLeft: number | null = null;
  const peerFiles: { host: string; group: 'A' | 'B'; path: string }[] = [];

  log('bringing up the test bed…');
  const tb = await Testbed.up(paperTopology());
  let poller: NodeJS.Timeout | undefined;
  try {
    log(`test bed ${tb.prefix} up; starting the origin server on ${origin}`);
    const server = watchChild(
      'origin server',
      tb.spawn('server', ...asServer(node, [cli, 'opennap', 'serve', '--port', String(ORIGIN_PORT), '--host', PAPER_SERVER_ADDR, '--stats-interval', String(ORIGIN_STATS_INTERVAL_S)]), { stdio: ['ignore', 'pipe', 'pipe'] }),
      join(raw, 'origin.log'),
      (line, at) => {
        const n = parseOriginSearches(line);
        if (n !== null) rec.originSearches.push({ at, value: n });
      },
    );
    await server.waitForLine(/listening on/, ORIGIN_READY_TIMEOUT_MS, o.signal);

    let daemon: WatchedChild | null = null;
    if (o.withoutDaemon !== true) {
      log(`starting the daemon on the router (active after ${plan.activeAfterS} s)`);
      rmSync(statusPath, { force: true });
      daemon = watchChild(
        'daemon',
        tb.spawn(
          'router',
          ...asServer(node, [cli, 'run', '--policy', policyPath, '--db', join(raw, 'state.db'), '--status', STATUS_LISTEN, '--status-file', statusPath, '--active-after', String(plan.activeAfterS)]),
          { stdio: ['ignore', 'pipe', 'pipe'] },
        ),
        join(raw, 'daemon.log'),
      );
      const deadline = Date.now() + DAEMON_READY_TIMEOUT_MS;
      while (!readStatus(statusPath, rec)) {
        if (daemon.child.exitCode !== null || daemon.child.signalCode !== null) throw new ExperimentProcessError('daemon', `exited before writing ${statusPath}:\n${daemon.tail()}`);
        if (Date.now() > deadline) throw new ExperimentProcessError('daemon', `no status file ${statusPath} within ${DAEMON_READY_TIMEOUT_MS} ms:\n${daemon.tail()}`);
        await sleep(STATUS_POLL_MS, o.signal);
      }
      poller = setInterval(() => readStatus(statusPath, rec), STATUS_POLL_MS);
    }

    log(`starting ${PAPER_PEERS} peers for ${plan.peerDurationS} s`);
    runStartedAt = Date.now();
    const peers = peerHosts().map(({ host, group, n }) => {
      const path = join(raw, `${host}.jsonl`);
      peerFiles.push({ host, group, path });
      const args = [cli, 'opennap', 'peers', '--server', origin, '--count', '1', '--rate', String(plan.searchRatePerPeer), '--catalogue', 'paper'];
      args.push('--group', group, '--duration', String(plan.peerDurationS), '--out', path, '--seed', String(n), '--nick-prefix', `${host}_`);
      // Each peer shares only its own part of its net's files, as in the paper.
      const inGroup = group === 'A' ? n - 1 : n - 1 - PAPER_NET_A_PEERS;
      args.push('--peer-index', String(inGroup), '--peer-total', String(group === 'A' ? PAPER_NET_A_PEERS : PAPER_PEERS - PAPER_NET_A_PEERS));
      return watchChild(host, tb.spawn(host, node, args, { stdio: ['ignore', 'pipe', 'pipe'] }), join(raw, `${host}.log`));
    });
    const codes = await within(Promise.all(peers.map((p) => p.exited())), plan.peerDurationS * 1000 + PEER_EXIT_SLACK_MS, 'peers', o.signal);
    const failed = peers.filter((_, i) => codes[i] !== 0);
    if (failed.length > 0) throw new ExperimentProcessError(failed.map((p) => p.name).join(', '), `peer processes failed:\n${failed.map((p) => `${p.name}: ${p.tail()}`).join('\n')}`);
    log('peers done');

    if (poller !== undefined) clearInterval(poller);
    if (daemon !== null) {
      readStatus(statusPath, rec);
      const code = await stopChild(daemon, DAEMON_STOP_GRACE_MS);
      log(`daemon stopped (exit ${code}); checking the router's iptables for leftovers`);
      rulesLeft = await iptablesLeft(tb);
    }
    await stopChild(server, CHILD_STOP_GRACE_MS);
  } finally {
    if (poller !== undefined) clearInterval(poller);
    await tb.down();
    log(`test bed ${tb.prefix} down`);
  }

  const peers: PeerLog[] = [];
  for (const f of peerFiles) {
    const { records, bad } = await readSearchLog(f.path);
    if (bad.length > 0) log(`${f.host}: ${bad.length} unreadable log lines ignored`);
    peers.push({ host: f.host, group: f.group, records });
  }
  const input: AnalysisInput = {
    runStartedAt,
    runEndedAt: runEnd(peers, runStartedAt + plan.peerDurationS * 1000),
    warmupMs: plan.warmupS * 1000,
    origin: PAPER_SERVER_ADDR,
    activeAt: rec.activeAt,
    timeline: rec.timeline,
    originSearches: rec.originSearches,
    proxySearches: rec.proxySearches,
    peers,
    rulesLeftAfterStop: rulesLeft,
    timeCompression: plan.timeCompression,
  };
  const results = analyse(input);
  const checks = checkProperties(results);
  const files: string[] = [];
  const write = (name: string, data: string | Buffer): void => {
    const p = join(outDir, name);
    writeFileSync(p, data);
    files.push(p);
  };
  write('results.json', `${JSON.stringify({ ...results, plan, policy: { highQueryRate: pol.highQueryRate, lowQueryRate: pol.lowQueryRate }, daemon: { statusReads: rec.statusReads, statusProblems: [...rec.statusProblems], proxySessionsMax: rec.proxySessionsMax, timeline: rec.timeline.map((e) => ({ ...e, atS: (e.ts - runStartedAt) / 1000 })) }, properties: checks }, null, 2)}\n`);
  for (const fig of await renderFigures(plotData(input, results))) {
    write(`${fig.name}.svg`, fig.svg);
    write(`${fig.name}.png`, fig.png);
  }
  if (o.keepRaw !== true) rmSync(raw, { recursive: true, force: true });

  log('');
  log(comparisonTable(results));
  log('');
  log(propertiesTable(checks));
  const passed = checks.every((c) => c.pass);
  log('');
  log(`${passed ? 'PASS' : 'FAIL'}: ${checks.filter((c) => c.pass).length} of ${checks.length} properties hold; outputs in ${outDir}`);
  return { results, checks, passed, files, prefix: tb.prefix };
}
