/**
 * Shared by the actuators' namespace tests (actuators.itest.ts,
 * tcp-reset.itest.ts): a client ─ router ─ server chain of three network
 * namespaces with a unique prefix, node agents inside them that speak JSON
 * lines, and a teardown that kills what runs in the namespaces and deletes
 * them (with their veths), also when a test failed.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface PairNamespaces {
  client: string;
  router: string;
  server: string;
}

/** Addresses of the chain, all /24: client and router's client side share one subnet, server and router's server side another. */
export interface PairAddresses {
  client: string;
  routerClientSide: string;
  routerServerSide: string;
  server: string;
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
}

/**
 * Builds the chain: veths c0 ↔ r-c and s0 ↔ r-s (the router's ends are named
 * r-c and r-s), addresses, links up, default routes through the router,
 * forwarding on in the router.
 */
export function buildPair(ns: PairNamespaces, a: PairAddresses): void {
  for (const n of [ns.client, ns.router, ns.server]) sh('ip', ['netns', 'add', n]);
  const ip = (...args: string[]): string => sh('ip', args);
  ip('-n', ns.client, 'link', 'add', 'c0', 'type', 'veth', 'peer', 'name', 'r-c', 'netns', ns.router);
  ip('-n', ns.server, 'link', 'add', 's0', 'type', 'veth', 'peer', 'name', 'r-s', 'netns', ns.router);
  ip('-n', ns.client, 'addr', 'add', `${a.client}/24`, 'dev', 'c0');
  ip('-n', ns.router, 'addr', 'add', `${a.routerClientSide}/24`, 'dev', 'r-c');
  ip('-n', ns.router, 'addr', 'add', `${a.routerServerSide}/24`, 'dev', 'r-s');
  ip('-n', ns.server, 'addr', 'add', `${a.server}/24`, 'dev', 's0');
  for (const [n, dev] of [[ns.client, 'c0'], [ns.router, 'r-c'], [ns.router, 'r-s'], [ns.server, 's0']] as const) {
    ip('-n', n, 'link', 'set', dev, 'up');
    ip('-n', n, 'link', 'set', 'lo', 'up');
  }
  ip('-n', ns.client, 'route', 'add', 'default', 'via', a.routerClientSide);
  ip('-n', ns.server, 'route', 'add', 'default', 'via', a.routerServerSide);
  sh('ip', ['netns', 'exec', ns.router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
}

/** Kills `children` and anything else inside the namespaces (all started by the test), then deletes them. */
export function removePair(ns: PairNamespaces, children: readonly ChildProcessWithoutNullStreams[]): void {
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) c.kill('SIGKILL');
  for (const n of [ns.client, ns.router, ns.server]) {
    let pids: string[] = [];
    try {
      pids = sh('ip', ['netns', 'pids', n]).split(/\s+/).filter(Boolean);
    } catch {
      // namespace not created
    }
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    try {
      sh('ip', ['netns', 'del', n]); // takes its veths with it
    } catch {
      // not created
    }
  }
}

/** A long-running node process in a namespace speaking JSON lines; each event gets its arrival time `at`. */
export class NsAgent {
  readonly events: Record<string, unknown>[] = [];
  stderr = '';

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on('line', (l) => {
      try {
        this.events.push({ ...(JSON.parse(l) as Record<string, unknown>), at: Date.now() });
      } catch {
        this.events.push({ event: 'noise', text: l });
      }
    });
    proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  send(line: string): void {
    this.proc.stdin.write(`${line}\n`);
  }

  /** Waits for an event matching `pred` among those from index `since` on; an agent's `fatal` event fails at once. */
  async waitFor(pred: (e: Record<string, unknown>) => boolean, timeoutMs: number, since = 0): Promise<Record<string, unknown>> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.slice(since).find(pred);
      if (hit) return hit;
      if (this.events.some((e) => e.event === 'fatal')) throw new Error(`agent failed: ${JSON.stringify(this.events)} ${this.stderr}`);
      if (Date.now() > end) throw new Error(`timeout; events so far: ${JSON.stringify(this.events)} ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

/** Starts `node ARGS` inside `ns`, recorded in `children` for the teardown. */
export function startNodeIn(ns: string, args: string[], children: ChildProcessWithoutNullStreams[]): NsAgent {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(proc);
  return new NsAgent(proc);
}
