/**
 * The network-namespace test bed: builds a topology (topology.ts) out of
 * namespaces, bridges and veth pairs, runs commands inside its hosts, and
 * removes every trace again, also from another process or after a crash.
 *
 * Everything lives inside namespaces named `<prefix>-<host>` and
 * `<prefix>-sw-<subnet>`; veths are created directly inside them, so the
 * root namespace never sees an interface of ours. A state file
 * (`/run/active-router-testnet/<prefix>.json`) is written *before* anything is
 * created, so `down`/`downAll` can always find what to remove.
 */
import { spawn as spawnChild } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { TestbedDownError, TestbedStateError, TopologyInvalidError, UnknownHostError, PrefixInvalidError } from './errors.js';
import {
  deleteNamespaces,
  deleteNamespacesSync,
  ipBatch,
  listNetns,
  netnsExecArgs,
  pidsInNamespaces,
  runChecked,
  runCommand,
  signalPids,
} from './netns.js';
import type { CommandOptions, CommandResult } from './netns.js';
import { makePrefix, prefixProblem, resolveTopology } from './topology.js';
import type { ResolvedHost, ResolvedInterface, ResolvedSubnet, ResolvedTopology, TopologySpec } from './topology.js';

/** Default state directory: under /run so a reboot (which also drops every namespace) clears it. */
export const DEFAULT_STATE_DIR = '/run/active-router-testnet';
/** Parallel setup processes; the machine has 2 cores, more parallelism only adds contention. */
export const BRINGUP_CONCURRENCY = 8;
/** How long tracked children get to exit after SIGTERM before SIGKILL. */
export const CHILD_GRACE_MS = 1_000;
/** How long to wait for SIGKILLed namespace processes to disappear before deleting the namespaces. */
export const KILL_WAIT_MS = 2_000;
/** How long a testbed's owner process gets, after SIGTERM, to take its own testbed down. */
export const OWNER_GRACE_MS = 5_000;
/** Poll period while waiting for processes or state files to disappear. */
const POLL_MS = 25;
const STATE_VERSION = 1;

export interface TestbedUpOptions {
  /** Per-run prefix; default `ar<pid36><rand>`. */
  readonly prefix?: string;
  readonly stateDir?: string;
  /** Keep IPv6 on (default off: no router solicitations, DAD or MLD noise in captures). */
  readonly ipv6?: boolean;
  /** Tear down on process exit/SIGINT/SIGTERM (default true). */
  readonly cleanupOnExit?: boolean;
}

export interface StateOptions {
  readonly stateDir?: string;
}

/** What the state file records: enough to find and remove everything, and to use the testbed from another process. */
export interface TestbedRecord {
  readonly version: number;
  readonly prefix: string;
  readonly topology: string;
  readonly owner: { readonly pid: number; readonly startTime: string | null };
  readonly createdAt: string;
  readonly namespaces: readonly string[];
  readonly hosts: readonly ResolvedHost[];
  readonly subnets: readonly ResolvedSubnet[];
}

export interface TestbedListing {
  readonly prefix: string;
  readonly topology: string;
  readonly ownerPid: number;
  readonly ownerAlive: boolean;
  readonly createdAt: string;
  readonly namespacesPresent: number;
  readonly namespacesTotal: number;
}

export interface DownAllResult {
  readonly removed: readonly string[];
  /** Testbeds whose owner process is still running (left alone unless `includeLive`). */
  readonly skippedLive: readonly string[];
}

export interface BringUpPlan {
  /** Run in the root namespace: create namespaces and veth pairs (created directly inside them). */
  readonly rootBatch: readonly string[];
  /** Per-namespace shell script: sysctls and offloads, run while the links are still down. */
  readonly setupScripts: readonly { readonly ns: string; readonly script: string }[];
  /** Per-namespace `ip -n NS -batch` lines: bridges, addresses, links up, routes. */
  readonly nsBatches: readonly { readonly ns: string; readonly lines: readonly string[] }[];
}

// ---------------------------------------------------------------- pure plan

/**
 * The commands that realise a resolved topology. Pure, so the exact command
 * lines are unit-tested. Names in it were validated by resolveTopology (no
 * spaces, quotes or dots), which is what makes them safe in batch lines and
 * in the setup shell scripts.
 */
export function bringUpPlan(topo: ResolvedTopology, opts: { readonly ipv6: boolean }): BringUpPlan {
  const rootBatch = topo.namespaces.map((ns) => `netns add ${ns}`);
  const switchNs = new Map(topo.subnets.map((s) => [s.name, s.switchNs]));
  for (const host of topo.hosts) {
    for (const i of host.interfaces) {
      rootBatch.push(`link add ${i.ifname} netns ${host.ns} type veth peer name ${i.switchPort} netns ${switchNs.get(i.subnet) ?? ''}`);
    }
  }

  const setupScripts: { ns: string; script: string }[] = [];
  const nsBatches: { ns: string; lines: string[] }[] = [];
  const script = (ifnames: readonly string[], router: boolean): string => {
    const lines = ['set -e'];
    const sysctl = (key: string, value: number): void => {
      lines.push(`echo ${value} > /proc/sys/${key.replaceAll('.', '/')}`);
    };
    if (!opts.ipv6) {
      for (const scope of ['all', 'default', ...ifnames]) sysctl(`net.ipv6.conf.${scope}.disable_ipv6`, 1);
    }
    if (router) {
      sysctl('net.ipv4.ip_forward', 1);
      // Reverse-path filtering would drop the asymmetric flows that DNAT takeover creates.
      for (const scope of ['all', 'default', ...ifnames]) sysctl(`net.ipv4.conf.${scope}.rp_filter`, 0);
    }
    // Offloads off: captures on the router see real MTU-sized packets with real checksums, as on a wire.
    for (const ifname of ifnames) lines.push(`ethtool -K ${ifname} tso off gso off gro off tx off`);
    return lines.join('\n');
  };

  for (const host of topo.hosts) {
    const ifnames = host.interfaces.map((i) => i.ifname);
    setupScripts.push({ ns: host.ns, script: script(ifnames, host.kind === 'router') });
    const lines = ['link set lo up'];
    for (const i of host.interfaces) {
      lines.push(`addr add ${i.address}/${i.prefixLength} dev ${i.ifname}`, `link set ${i.ifname} up`);
    }
    const first = host.interfaces[0];
    if (host.gateway !== null && first !== undefined) lines.push(`route add default via ${host.gateway} dev ${first.ifname}`);
    nsBatches.push({ ns: host.ns, lines });
  }
  for (const subnet of topo.subnets) {
    const ports = topo.hosts.flatMap((h) => h.interfaces.filter((i) => i.subnet === subnet.name));
    setupScripts.push({ ns: subnet.switchNs, script: script(ports.map((p) => p.switchPort), false) });
    // STP stays off (the default): ports forward at once and there are no loops to break.
    const lines = [`link add ${subnet.bridge} type bridge`, `link set ${subnet.bridge} up`];
    for (const p of ports) {
      lines.push(`link set ${p.switchPort} alias ${p.host}`, `link set ${p.switchPort} master ${subnet.bridge}`, `link set ${p.switchPort} up`);
    }
    nsBatches.push({ ns: subnet.switchNs, lines });
  }
  return { rootBatch, setupScripts, nsBatches };
}

/** Start time (field 22 of /proc/PID/stat, clock ticks since boot): with the pid it identifies a process despite pid reuse. */
export function parseProcStartTime(statText: string): string | null {
  const close = statText.lastIndexOf(')');
  if (close < 0) return null;
  const fields = statText.slice(close + 1).trim().split(/\s+/);
  const start = fields[19]; // fields[0] is field 3 (state)
  return start !== undefined && /^[0-9]+$/.test(start) ? start : null;
}

/** Checks a parsed state file; null when it is not a testbed record of ours. */
export function parseTestbedRecord(value: unknown): TestbedRecord | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  const owner = r.owner as Record<string, unknown> | undefined;
  const ok =
    r.version === STATE_VERSION &&
    typeof r.prefix === 'string' &&
    prefixProblem(r.prefix) === null &&
    typeof r.topology === 'string' &&
    typeof r.createdAt === 'string' &&
    typeof owner === 'object' &&
    owner !== null &&
    Number.isInteger(owner.pid) &&
    (owner.startTime === null || typeof owner.startTime === 'string') &&
    Array.isArray(r.namespaces) &&
    r.namespaces.every((n) => typeof n === 'string' && n.startsWith(`${String(r.prefix)}-`)) &&
    Array.isArray(r.hosts) &&
    Array.isArray(r.subnets);
  return ok ? (value as TestbedRecord) : null;
}

// ---------------------------------------------------------------- process helpers (I/O)

function readStartTime(pid: number): string | null {
  try {
    return parseProcStartTime(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

function isOwnerAlive(owner: TestbedRecord['owner']): boolean {
  const now = readStartTime(owner.pid);
  return now !== null && (owner.startTime === null || owner.startTime === now);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function statePath(dir: string, prefix: string): string {
  return `${dir}/${prefix}.json`;
}

function writeRecord(dir: string, record: TestbedRecord): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = `${statePath(dir, record.prefix)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, statePath(dir, record.prefix)); // atomic: readers never see half a file
}

function readRecord(dir: string, prefix: string): TestbedRecord {
  let text: string;
  try {
    text = readFileSync(statePath(dir, prefix), 'utf8');
  } catch (e) {
    throw new TestbedStateError(`no testbed "${prefix}" recorded in ${dir}`, e);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new TestbedStateError(`state file ${statePath(dir, prefix)} is not JSON`, e);
  }
  const record = parseTestbedRecord(parsed);
  if (record === null || record.prefix !== prefix) throw new TestbedStateError(`state file ${statePath(dir, prefix)} is not a testbed record`);
  return record;
}

function removeRecord(dir: string, prefix: string): void {
  try {
    unlinkSync(statePath(dir, prefix));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function recordedPrefixes(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .filter((p) => prefixProblem(p) === null)
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Recorded namespaces plus any namespace carrying the prefix (covers a crash between creation and a later record). */
function namespacesOf(prefix: string, recorded: readonly string[]): string[] {
  return [...new Set([...recorded, ...listNetns().filter((n) => n.startsWith(`${prefix}-`))])];
}

/** Kills every process inside the namespaces, waits briefly for them to go, deletes the namespaces. */
async function teardownNamespaces(namespaces: readonly string[]): Promise<void> {
  const deadline = Date.now() + KILL_WAIT_MS;
  for (;;) {
    const pids = [...pidsInNamespaces(namespaces).values()].flat();
    if (pids.length === 0 || Date.now() > deadline) break;
    signalPids(pids, 'SIGKILL');
    await sleep(POLL_MS);
  }
  await deleteNamespaces(namespaces);
}

function teardownNamespacesSync(namespaces: readonly string[]): void {
  signalPids([...pidsInNamespaces(namespaces).values()].flat(), 'SIGKILL');
  deleteNamespacesSync(namespaces);
}

// ---------------------------------------------------------------- exit handlers

const live = new Set<Testbed>();
let handlersInstalled = false;

function onExit(): void {
  for (const tb of [...live]) {
    try {
      tb.downSync();
    } catch (e) {
      process.stderr.write(`testnet: cleanup of ${tb.prefix} failed: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  onExit();
  uninstallHandlers();
  // Re-raise so the default action (termination) happens, unless someone else handles the signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.removeListener('exit', onExit);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
}

// ---------------------------------------------------------------- the testbed

export class Testbed {
  readonly prefix: string;
  readonly topology: ResolvedTopology;
  readonly stateDir: string;
  private readonly children = new Set<ChildProcess>();
  private downPromise: Promise<void> | null = null;

  private constructor(topology: ResolvedTopology, stateDir: string) {
    this.prefix = topology.prefix;
    this.topology = topology;
    this.stateDir = stateDir;
  }

  /** Builds the topology. On any failure removes what was created and rethrows. */
  static async up(spec: TopologySpec, opts: TestbedUpOptions = {}): Promise<Testbed> {
    const prefix = opts.prefix ?? makePrefix(process.pid, Math.random);
    const problem = prefixProblem(prefix);
    if (problem !== null) throw new PrefixInvalidError(prefix, problem);
    const resolved = resolveTopology(spec, prefix);
    if (resolved.kind === 'error') throw new TopologyInvalidError(spec.name, resolved.issues);
    const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
    const taken = listNetns().filter((n) => n.startsWith(`${prefix}-`));
    if (taken.length > 0) throw new PrefixInvalidError(prefix, `namespaces with this prefix already exist (${taken.join(', ')})`);

    const tb = new Testbed(resolved.topology, stateDir);
    writeRecord(stateDir, tb.record());
    if (opts.cleanupOnExit ?? true) {
      live.add(tb);
      installHandlers();
    }
    try {
      const plan = bringUpPlan(tb.topology, { ipv6: opts.ipv6 ?? false });
      await ipBatch(plan.rootBatch);
      await mapLimit(plan.setupScripts, BRINGUP_CONCURRENCY, async ({ ns, script }) => {
        await runChecked('ip', netnsExecArgs(ns, 'sh', ['-c', script]));
      });
      await mapLimit(plan.nsBatches, BRINGUP_CONCURRENCY, ({ ns, lines }) => ipBatch(lines, ns));
    } catch (e) {
      await tb.down().catch(() => undefined);
      throw e;
    }
    return tb;
  }

  /** A handle on a testbed recorded in the state dir (e.g. made by `testnet up` in another process). */
  static attach(prefix: string, opts: StateOptions = {}): Testbed {
    const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
    const r = readRecord(stateDir, prefix);
    return new Testbed({ name: r.topology, prefix: r.prefix, hosts: r.hosts, subnets: r.subnets, namespaces: r.namespaces }, stateDir);
  }

  static list(opts: StateOptions = {}): TestbedListing[] {
    const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
    const present = new Set(listNetns());
    const out: TestbedListing[] = [];
    for (const prefix of recordedPrefixes(stateDir)) {
      let r: TestbedRecord;
      try {
        r = readRecord(stateDir, prefix);
      } catch {
        out.push({ prefix, topology: '?', ownerPid: 0, ownerAlive: false, createdAt: '?', namespacesPresent: 0, namespacesTotal: 0 });
        continue;
      }
      out.push({
        prefix,
        topology: r.topology,
        ownerPid: r.owner.pid,
        ownerAlive: isOwnerAlive(r.owner),
        createdAt: r.createdAt,
        namespacesPresent: r.namespaces.filter((n) => present.has(n)).length,
        namespacesTotal: r.namespaces.length,
      });
    }
    return out;
  }

  /**
   * Removes one recorded testbed, whoever owns it. A live owner (e.g. a
   * `testnet up` process) is asked first with SIGTERM so it exits cleanly;
   * whatever is left after OWNER_GRACE_MS is removed here. Idempotent.
   */
  static async downPrefix(prefix: string, opts: StateOptions = {}): Promise<void> {
    const problem = prefixProblem(prefix);
    if (problem !== null) throw new PrefixInvalidError(prefix, problem);
    const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
    for (const tb of live) if (tb.prefix === prefix && tb.stateDir === stateDir) return tb.down();

    let recorded: readonly string[] = [];
    try {
      const r = readRecord(stateDir, prefix);
      recorded = r.namespaces;
      if (r.owner.pid !== process.pid && isOwnerAlive(r.owner)) {
        signalPids([r.owner.pid], 'SIGTERM');
        const deadline = Date.now() + OWNER_GRACE_MS;
        while (Date.now() < deadline && isOwnerAlive(r.owner) && recordedPrefixes(stateDir).includes(prefix)) await sleep(POLL_MS);
      }
    } catch (e) {
      if (!(e instanceof TestbedStateError)) throw e;
      // Unreadable or missing record: fall back to namespaces carrying the prefix.
    }
    await teardownNamespaces(namespacesOf(prefix, recorded));
    removeRecord(stateDir, prefix);
  }

  /**
   * Removes every recorded testbed whose prefix starts with `prefixFilter`
   * (all when omitted). Testbeds whose owner process still runs are skipped
   * unless `includeLive`: other test runs on the same machine keep theirs.
   */
  static async downAll(prefixFilter = '', opts: StateOptions & { readonly includeLive?: boolean } = {}): Promise<DownAllResult> {
    const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
    const removed: string[] = [];
    const skippedLive: string[] = [];
    for (const prefix of recordedPrefixes(stateDir)) {
      if (!prefix.startsWith(prefixFilter)) continue;
      let alive = false;
      try {
        const r = readRecord(stateDir, prefix);
        alive = r.owner.pid !== process.pid && isOwnerAlive(r.owner);
      } catch (e) {
        if (!(e instanceof TestbedStateError)) throw e;
      }
      if (alive && !(opts.includeLive ?? false)) {
        skippedLive.push(prefix);
        continue;
      }
      await Testbed.downPrefix(prefix, { stateDir });
      removed.push(prefix);
    }
    return { removed, skippedLive };
  }

  get isDown(): boolean {
    return this.downPromise !== null;
  }

  get stateFile(): string {
    return statePath(this.stateDir, this.prefix);
  }

  hosts(): readonly ResolvedHost[] {
    return this.topology.hosts;
  }

  host(name: string): ResolvedHost {
    const h = this.topology.hosts.find((x) => x.name === name);
    if (h === undefined) throw new UnknownHostError(`testbed ${this.prefix} (${this.topology.name}) has no host "${name}"`);
    return h;
  }

  nsOf(host: string): string {
    return this.host(host).ns;
  }

  /** The switch namespace of a subnet (e.g. to capture on a bridge port). */
  switchNsOf(subnet: string): string {
    const s = this.topology.subnets.find((x) => x.name === subnet);
    if (s === undefined) throw new UnknownHostError(`testbed ${this.prefix} (${this.topology.name}) has no subnet "${subnet}"`);
    return s.switchNs;
  }

  /** The host's interface on `subnet`; `subnet` may be omitted for hosts with exactly one interface. */
  interfaceOf(host: string, subnet?: string): ResolvedInterface {
    const h = this.host(host);
    const candidates = subnet === undefined ? h.interfaces : h.interfaces.filter((i) => i.subnet === subnet);
    const only = candidates[0];
    if (only === undefined || candidates.length > 1) {
      const why = candidates.length > 1 ? 'has several interfaces: name the subnet' : `has no interface on subnet "${String(subnet)}"`;
      throw new UnknownHostError(`host "${host}" ${why}`);
    }
    return only;
  }

  addressOf(host: string, subnet?: string): string {
    return this.interfaceOf(host, subnet).address;
  }

  /** Runs a command inside the host's namespace to completion; resolves with its exit status, output and flags. */
  exec(host: string, command: string, args: readonly string[] = [], opts: CommandOptions = {}): Promise<CommandResult> {
    if (this.isDown) return Promise.reject(new TestbedDownError(this.prefix));
    const ns = this.nsOf(host);
    return runCommand('ip', netnsExecArgs(ns, command, args), {
      ...opts,
      onSpawn: (child) => {
        this.track(child);
        opts.onSpawn?.(child);
      },
    });
  }

  /** Starts a long-running command inside the host's namespace; the child is killed at `down()` at the latest. */
  spawn(host: string, command: string, args: readonly string[] = [], opts: SpawnOptions = {}): ChildProcess {
    if (this.isDown) throw new TestbedDownError(this.prefix);
    const child = spawnChild('ip', netnsExecArgs(this.nsOf(host), command, args), opts);
    this.track(child);
    return child;
  }

  /** Takes everything down: children, processes left in the namespaces, namespaces, state file. Idempotent. */
  down(): Promise<void> {
    this.downPromise ??= this.doDown();
    return this.downPromise;
  }

  /** Synchronous teardown for exit handlers: SIGKILL instead of a grace period. Idempotent. */
  downSync(): void {
    if (this.downPromise === null) this.downPromise = Promise.resolve();
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    teardownNamespacesSync(namespacesOf(this.prefix, this.topology.namespaces));
    removeRecord(this.stateDir, this.prefix);
    this.forget();
  }

  private async doDown(): Promise<void> {
    const running = [...this.children].filter((c) => c.exitCode === null && c.signalCode === null);
    for (const c of running) c.kill('SIGTERM');
    const deadline = Date.now() + CHILD_GRACE_MS;
    while (Date.now() < deadline && running.some((c) => c.exitCode === null && c.signalCode === null)) await sleep(POLL_MS);
    for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    try {
      await teardownNamespaces(namespacesOf(this.prefix, this.topology.namespaces));
      removeRecord(this.stateDir, this.prefix);
    } finally {
      this.forget();
    }
  }

  private forget(): void {
    live.delete(this);
    if (live.size === 0) uninstallHandlers();
  }

  private track(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
  }

  private record(): TestbedRecord {
    return {
      version: STATE_VERSION,
      prefix: this.prefix,
      topology: this.topology.name,
      owner: { pid: process.pid, startTime: readStartTime(process.pid) },
      createdAt: new Date().toISOString(),
      namespaces: this.topology.namespaces,
      hosts: this.topology.hosts,
      subnets: this.topology.subnets,
    };
  }
}
