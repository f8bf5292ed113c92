// Integration test of the test bed: builds the paper's Fig. 4 topology in real namespaces, sends traffic
// across the router (only between our own namespace addresses), tears it down and checks nothing is left;
// then runs `testnet up` in child processes and kills them (SIGTERM, SIGKILL) to check cleanup and downAll.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestbedDownError, UnknownHostError } from './errors.js';
import { listNetns, runCommand } from './netns.js';
import { DEFAULT_STATE_DIR, Testbed } from './testbed.js';
import { makePrefix } from './topology.js';
import { paperTopology } from './topologies/paper.js';

const ROOT = resolve(import.meta.dirname, '..');
const VITE_NODE = resolve(ROOT, 'node_modules/vite-node/vite-node.mjs');
const CLI_FIXTURE = resolve(ROOT, 'test-net/testnet-cli.fixture.ts');
const isRoot = process.getuid?.() === 0;
const hasPing = ['/usr/bin/ping', '/bin/ping', '/usr/sbin/ping'].some((p) => existsSync(p));

/** A TCP server that answers every connection with the peer address it sees, then closes. */
const ECHO_SERVER = (host: string, port: number): string =>
  `const s=require('net').createServer(c=>c.end(c.remoteAddress));s.listen(${port},'${host}',()=>console.log('listening'))`;
const CLIENT = (host: string, port: number): string =>
  `const c=require('net').connect(${port},'${host}');let d='';c.on('data',x=>d+=x);c.on('end',()=>{console.log(d);process.exit(0)});c.on('error',e=>{console.error(e.code);process.exit(1)});setTimeout(()=>{console.error('timeout');process.exit(2)},3000)`;

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((res, rej) => {
    let buf = '';
    const timer = setTimeout(() => rej(new Error(`no line matching ${String(pattern)} within ${timeoutMs} ms; got: ${buf}`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const line = buf.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        res(line);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`exited (${String(code)}) before printing ${String(pattern)}: ${buf}`));
    });
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
}

/** Runs the `testnet` command group in a child process (argv handed over as JSON: vite-node eats `--`). */
function cli(argv: readonly string[]): ChildProcess {
  return spawn(process.execPath, [VITE_NODE, CLI_FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, TESTNET_FIXTURE_ARGV: JSON.stringify(argv) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function cliRun(argv: readonly string[]): Promise<{ code: number | null; stdout: string }> {
  const child = cli(argv);
  let stdout = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  const { code } = await exited(child);
  return { code, stdout };
}

function leftovers(prefix: string): { namespaces: string[]; stateFile: boolean } {
  return { namespaces: listNetns().filter((n) => n.startsWith(`${prefix}-`)), stateFile: existsSync(`${DEFAULT_STATE_DIR}/${prefix}.json`) };
}

function forwarded(snmp: string): number {
  const lines = snmp.split('\n').filter((l) => l.startsWith('Ip:'));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  return Number(values[names.indexOf('ForwDatagrams')]);
}

// Skipped only outside CI, for a developer without root (or the tool named): these tests build
// namespaces and change iptables/conntrack. CI (CI=true, root, tools installed by .ci/setup) never skips them.
describe.skipIf(!isRoot && !process.env.CI)('Testbed with the paper topology', () => {
  let tb: Testbed;

  beforeAll(async () => {
    const t0 = performance.now();
    tb = await Testbed.up(paperTopology());
    // Informational only: bring-up time is reported, never asserted.
    console.log(`testbed ${tb.prefix}: paper topology up in ${Math.round(performance.now() - t0)} ms`);
  });

  afterAll(async () => {
    await tb.down();
    await Testbed.downAll(tb.prefix);
  });

  it('creates all namespaces with the prefix, none of our interfaces in the root namespace', async () => {
    expect(leftovers(tb.prefix).namespaces.sort()).toEqual([...tb.topology.namespaces].sort());
    expect(existsSync(tb.stateFile)).toBe(true);
    const root = await runCommand('ip', ['-o', 'link', 'show']);
    expect(root.stdout).not.toContain(tb.prefix);
  });

  it('router: stable interface names and addresses, forwarding on, rp_filter off, offloads off', async () => {
    const addrs = (await tb.exec('router', 'ip', ['-o', '-4', 'addr', 'show'])).stdout;
    expect(addrs).toMatch(/ eth-a\s+inet 10\.201\.1\.1\/24 /);
    expect(addrs).toMatch(/ eth-b\s+inet 10\.201\.2\.1\/24 /);
    expect(tb.addressOf('router', 'b')).toBe('10.201.2.1');
    expect(tb.interfaceOf('router', 'b').ifname).toBe('eth-b');
    const sys = await tb.exec('router', 'cat', [
      '/proc/sys/net/ipv4/ip_forward',
      '/proc/sys/net/ipv4/conf/all/rp_filter',
      '/proc/sys/net/ipv4/conf/eth-a/rp_filter',
      '/proc/sys/net/ipv4/conf/eth-b/rp_filter',
    ]);
    expect(sys.stdout.split('\n').slice(0, 4)).toEqual(['1', '0', '0', '0']);
    for (const ifname of ['eth-a', 'eth-b']) {
      const k = (await tb.exec('router', 'ethtool', ['-k', ifname])).stdout;
      for (const feature of ['tcp-segmentation-offload', 'generic-segmentation-offload', 'generic-receive-offload']) {
        expect(k).toMatch(new RegExp(`^${feature}: off`, 'm'));
      }
    }
  });

  it('hosts: address and default route via their subnet router; bridges hold every port', async () => {
    const peer8 = await tb.exec('peer8', 'ip', ['-o', '-4', 'addr', 'show', 'dev', 'eth0']);
    expect(peer8.stdout).toContain('inet 10.201.2.18/24');
    const route = await tb.exec('peer8', 'ip', ['route', 'show', 'default']);
    expect(route.stdout.trim()).toBe('default via 10.201.2.1 dev eth0');
    expect(tb.addressOf('server')).toBe('10.201.1.10');
    expect(tb.addressOf('peer13')).toBe('10.201.2.23');
    const portsA = await runCommand('ip', ['-n', tb.switchNsOf('a'), '-o', 'link', 'show', 'master', 'br0']);
    const portsB = await runCommand('ip', ['-n', tb.switchNsOf('b'), '-o', 'link', 'show', 'master', 'br0']);
    expect(portsA.stdout.trim().split('\n')).toHaveLength(9); // router + server + peer1..7
    expect(portsB.stdout.trim().split('\n')).toHaveLength(7); // router + peer8..13
  });

  // Skipped only outside CI when ping is not installed; .ci/setup installs iputils-ping.
  it.skipIf(!hasPing && !process.env.CI)('ping crosses the router: peer8 -> server and peer1 -> peer13', async () => {
    // Three tries: the first echo of a fresh topology may wait on ARP at two hops.
    expect((await tb.exec('peer8', 'ping', ['-c3', '-i0.2', '-W1', tb.addressOf('server')])).code).toBe(0);
    expect((await tb.exec('peer1', 'ping', ['-c3', '-i0.2', '-W1', tb.addressOf('peer13')])).code).toBe(0);
  });

  it.each([
    ['peer8', 'server', 7001],
    ['peer1', 'peer13', 7002],
  ])('TCP from %s to %s crosses the router and keeps the client address', async (from, to, port) => {
    const snmpBefore = forwarded((await tb.exec('router', 'cat', ['/proc/net/snmp'])).stdout);
    const server = tb.spawn(to, process.execPath, ['-e', ECHO_SERVER(tb.addressOf(to), port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForLine(server, /^listening$/, 10_000);
    const r = await tb.exec(from, process.execPath, ['-e', CLIENT(tb.addressOf(to), port)], { timeoutMs: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(tb.addressOf(from));
    const snmpAfter = forwarded((await tb.exec('router', 'cat', ['/proc/net/snmp'])).stdout);
    expect(snmpAfter - snmpBefore).toBeGreaterThanOrEqual(4); // SYN, ACK, data/FIN both ways went through the router
    server.kill('SIGTERM');
    await exited(server);
  });

  it('exec passes exit codes through; unknown hosts are named errors', async () => {
    expect((await tb.exec('peer3', 'sh', ['-c', 'exit 7'])).code).toBe(7);
    expect(() => tb.nsOf('nobody')).toThrow(UnknownHostError);
    expect(() => tb.addressOf('router')).toThrow(UnknownHostError); // two interfaces: subnet needed
  });

  it('down kills tracked and untracked processes, removes namespaces and state; idempotent', async () => {
    const tracked = tb.spawn('peer2', 'sleep', ['600'], { stdio: 'ignore' });
    // Started behind the testbed's back: found through its network namespace.
    const stray = spawn('ip', ['netns', 'exec', tb.nsOf('peer9'), 'sleep', '600'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    expect(tracked.exitCode).toBeNull();
    expect(stray.exitCode).toBeNull();

    await tb.down();
    const [t, s] = await Promise.all([exited(tracked), exited(stray)]);
    expect(t.signal ?? t.code).not.toBeNull();
    expect(s.signal).toBe('SIGKILL');
    expect(leftovers(tb.prefix)).toEqual({ namespaces: [], stateFile: false });
    const root = await runCommand('ip', ['-o', 'link', 'show']);
    expect(root.stdout).not.toContain(tb.prefix);

    await tb.down(); // again: no error
    await expect(tb.exec('peer1', 'true')).rejects.toThrow(TestbedDownError);
    expect(() => tb.spawn('peer1', 'true')).toThrow(TestbedDownError);
  });
});

// Skipped only outside CI, for a developer without root (or the tool named): these tests build
// namespaces and change iptables/conntrack. CI (CI=true, root, tools installed by .ci/setup) never skips them.
describe.skipIf(!isRoot && !process.env.CI)('testnet CLI in child processes', () => {
  const prefixes: string[] = [];
  const fresh = (): string => {
    const p = makePrefix(process.pid, Math.random);
    prefixes.push(p);
    return p;
  };

  afterAll(async () => {
    for (const p of prefixes) await Testbed.downPrefix(p);
  });

  it('up prints the topology; exec passes exit codes; list shows it; SIGTERM removes everything', async () => {
    const prefix = fresh();
    const owner = cli(['testnet', 'up', '--topology', 'pair', '--prefix', prefix, '--json']);
    const line = await waitForLine(owner, /^\{/, 30_000);
    const printed = JSON.parse(line) as { prefix: string; topology: { hosts: { name: string }[] } };
    expect(printed.prefix).toBe(prefix);
    expect(printed.topology.hosts.map((h) => h.name)).toEqual(['client', 'router', 'server']);
    expect(leftovers(prefix).namespaces).toHaveLength(5);

    const ex = await cliRun(['testnet', 'exec', prefix, 'client', '--', 'sh', '-c', 'ip -o -4 addr show dev eth0; exit 3']);
    expect(ex.code).toBe(3);
    expect(ex.stdout).toContain('inet 10.202.1.10/24');
    const list = await cliRun(['testnet', 'list']);
    expect(list.stdout).toMatch(new RegExp(`^${prefix}\\s+pair\\s+${String(owner.pid)}\\s+running\\s+5/5`, 'm'));

    owner.kill('SIGTERM');
    const end = await exited(owner);
    expect(end.signal ?? end.code).not.toBeNull();
    expect(leftovers(prefix)).toEqual({ namespaces: [], stateFile: false });
    expect((await Testbed.downAll(prefix)).removed).toEqual([]);
  });

  it('a SIGKILLed owner leaves its testbed behind; downAll removes it', async () => {
    const prefix = fresh();
    const owner = cli(['testnet', 'up', '--topology', 'pair', '--prefix', prefix, '--json']);
    await waitForLine(owner, /^\{/, 30_000);
    owner.kill('SIGKILL');
    await exited(owner);
    expect(leftovers(prefix)).toEqual({ namespaces: expect.arrayContaining([`${prefix}-router`]) as unknown, stateFile: true });
    expect(Testbed.list().find((l) => l.prefix === prefix)?.ownerAlive).toBe(false);

    const result = await Testbed.downAll(prefix);
    expect(result).toEqual({ removed: [prefix], skippedLive: [] });
    expect(leftovers(prefix)).toEqual({ namespaces: [], stateFile: false });
  });

  it('downAll keeps a testbed whose owner runs; `testnet down PREFIX` stops the owner and removes it', async () => {
    const prefix = fresh();
    const owner = cli(['testnet', 'up', '--topology', 'pair', '--prefix', prefix, '--json']);
    await waitForLine(owner, /^\{/, 30_000);
    expect(await Testbed.downAll(prefix)).toEqual({ removed: [], skippedLive: [prefix] });
    expect(leftovers(prefix).namespaces).toHaveLength(5);

    const down = await cliRun(['testnet', 'down', prefix]);
    expect(down.code).toBe(0);
    await exited(owner);
    expect(leftovers(prefix)).toEqual({ namespaces: [], stateFile: false });
  });
});
