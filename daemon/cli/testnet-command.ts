/**
 * `active-router testnet up|down|exec|list`: the network-namespace test bed
 * (test-net/testbed.ts) from the command line, for demos and for poking at a
 * topology by hand. `up` stays in the foreground until `down` (or a signal)
 * and removes everything when it ends.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { TestnetError, UnknownTopologyError } from '../../test-net/errors.js';
import { exitStatus } from '../../test-net/netns.js';
import { Testbed } from '../../test-net/testbed.js';
import type { TestbedListing } from '../../test-net/testbed.js';
import { TOPOLOGIES, topologyByName } from '../../test-net/topologies/index.js';
import type { ResolvedTopology } from '../../test-net/topology.js';

/** How often `up` checks whether its state file was removed by a `down` from elsewhere. */
export const UP_POLL_MS = 500;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** One row per interface: host, kind, namespace, interface, address/len, gateway. */
export function formatTopologyTable(topo: ResolvedTopology): string {
  const rows = topo.hosts.flatMap((h) =>
    h.interfaces.map((i) => [h.name, h.kind, h.ns, i.ifname, `${i.address}/${i.prefixLength}`, h.gateway ?? '-']),
  );
  return table(['HOST', 'KIND', 'NAMESPACE', 'IFACE', 'ADDRESS', 'GATEWAY'], rows);
}

export function formatListing(list: readonly TestbedListing[]): string {
  if (list.length === 0) return 'no testbeds recorded';
  const rows = list.map((l) => [
    l.prefix,
    l.topology,
    String(l.ownerPid),
    l.ownerAlive ? 'running' : 'gone',
    `${l.namespacesPresent}/${l.namespacesTotal}`,
    l.createdAt,
  ]);
  return table(['PREFIX', 'TOPOLOGY', 'OWNER', 'OWNER STATE', 'NAMESPACES', 'CREATED'], rows);
}

async function runUp(opts: { topology: string; prefix?: string; ipv6?: boolean; json?: boolean }): Promise<void> {
  const spec = topologyByName(opts.topology);
  if (spec === null) throw new UnknownTopologyError(opts.topology, Object.keys(TOPOLOGIES));
  const tb = await Testbed.up(spec, { prefix: opts.prefix, ipv6: opts.ipv6 ?? false });
  if (opts.json ?? false) {
    process.stdout.write(`${JSON.stringify({ prefix: tb.prefix, topology: tb.topology })}\n`);
  } else {
    process.stdout.write(`testbed ${tb.prefix} (topology ${tb.topology.name}) is up\n`);
    process.stdout.write(`${formatTopologyTable(tb.topology)}\n`);
    process.stdout.write(`remove with: active-router testnet down ${tb.prefix}\n`);
  }
  // Stay up until our state file disappears (`testnet down` from elsewhere); signals are handled by Testbed.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (!existsSync(tb.stateFile)) {
        clearInterval(timer);
        resolve();
      }
    }, UP_POLL_MS);
  });
  await tb.down();
}

async function runExec(prefix: string, host: string, command: readonly string[]): Promise<void> {
  const [cmd, ...args] = command;
  if (cmd === undefined) throw new TestnetError('TESTNET_NO_COMMAND', 'testnet exec: no command given');
  const tb = Testbed.attach(prefix);
  const child = tb.spawn(host, cmd, args, { stdio: 'inherit' });
  process.exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(exitStatus(code, signal)));
  });
}

export function registerTestnetCommand(program: Command): void {
  const testnet = program
    .command('testnet')
    .description('network-namespace test bed: build, use and remove test topologies')
    // Lets `exec` pass the command's own options through untouched (see passThroughOptions below).
    .enablePositionalOptions();

  testnet
    .command('up')
    .description('build a topology in fresh namespaces and keep it until `testnet down`')
    .addOption(new Option('--topology <name>', 'ready-made topology').choices(Object.keys(TOPOLOGIES)).default('paper'))
    .option('--prefix <prefix>', 'namespace prefix (default: ar<pid><random>)')
    .option('--ipv6', 'keep IPv6 enabled on the test interfaces')
    .option('--json', 'print the resolved topology as one JSON line')
    .action(runUp);

  testnet
    .command('down')
    .description('remove a testbed by prefix, or every recorded one with --all')
    .argument('[prefix]', 'prefix printed by `testnet up`')
    .option('--all', 'remove every recorded testbed whose owner process is gone')
    .option('--force', 'with --all: also remove testbeds whose owner still runs')
    .action(async (prefix: string | undefined, opts: { all?: boolean; force?: boolean }, cmd: Command) => {
      if (prefix !== undefined && opts.all === true) cmd.error('give either a PREFIX or --all, not both');
      if (prefix !== undefined) {
        await Testbed.downPrefix(prefix);
        process.stdout.write(`removed ${prefix}\n`);
        return;
      }
      if (opts.all !== true) cmd.error('give a PREFIX or --all');
      const result = await Testbed.downAll('', { includeLive: opts.force ?? false });
      for (const p of result.removed) process.stdout.write(`removed ${p}\n`);
      for (const p of result.skippedLive) process.stdout.write(`kept ${p} (owner still running; --force removes it)\n`);
    });

  testnet
    .command('exec')
    .description("run a command in a host's namespace: testnet exec PREFIX HOST -- CMD ARGS...; exits with its status")
    .argument('<prefix>')
    .argument('<host>')
    .argument('<command...>')
    // `-c1` etc. after HOST belong to the command; `--` still works and is the safe form.
    .passThroughOptions()
    .action((prefix: string, host: string, command: string[]) => runExec(prefix, host, command));

  testnet
    .command('list')
    .description('list recorded testbeds')
    .action(() => {
      process.stdout.write(`${formatListing(Testbed.list())}\n`);
    });
}
