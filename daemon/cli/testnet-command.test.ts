// Unit tests of the `testnet` command group: its tables and its usage errors (nothing here touches the network).
import type { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { resolveTopology } from '../../test-net/topology.js';
import { pairTopology } from '../../test-net/topologies/pair.js';
import { formatListing, formatTopologyTable, registerTestnetCommand } from './testnet-command.js';
import { usageError as usageErrorOf } from './quiet-program.fixture.js';

const usageError = (argv: string[]): Promise<CommanderError> => usageErrorOf(registerTestnetCommand, argv);

describe('formatTopologyTable', () => {
  it('lists one row per interface with namespace, address and gateway', () => {
    const r = resolveTopology(pairTopology(), 'arcli');
    if (r.kind !== 'ok') throw new Error('pair must resolve');
    const lines = formatTopologyTable(r.topology).split('\n');
    expect(lines[0]).toMatch(/^HOST\s+KIND\s+NAMESPACE\s+IFACE\s+ADDRESS\s+GATEWAY$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/))).toEqual([
      ['client', 'host', 'arcli-client', 'eth0', '10.202.1.10/24', '10.202.1.1'],
      ['router', 'router', 'arcli-router', 'eth-c', '10.202.1.1/24', '-'],
      ['router', 'router', 'arcli-router', 'eth-s', '10.202.2.1/24', '-'],
      ['server', 'host', 'arcli-server', 'eth0', '10.202.2.10/24', '10.202.2.1'],
    ]);
  });
});

describe('formatListing', () => {
  it('says so when nothing is recorded', () => {
    expect(formatListing([])).toBe('no testbeds recorded');
  });
  it('shows owner state and namespace counts', () => {
    const out = formatListing([
      { prefix: 'arx', topology: 'paper', ownerPid: 42, ownerAlive: false, createdAt: 't', namespacesPresent: 3, namespacesTotal: 17 },
    ]);
    expect(out.split('\n')[1]?.split(/\s+/)).toEqual(['arx', 'paper', '42', 'gone', '3/17', 't']);
  });
});

describe('testnet usage errors', () => {
  it.each<[string, string[], string]>([
    ['unknown topology', ['testnet', 'up', '--topology', 'nope'], 'commander.invalidArgument'],
    ['down without prefix or --all', ['testnet', 'down'], 'commander.error'],
    ['down with both prefix and --all', ['testnet', 'down', 'arx', '--all'], 'commander.error'],
    ['exec without command', ['testnet', 'exec', 'arx', 'peer1'], 'commander.missingArgument'],
  ])('%s', async (_label, argv, code) => {
    const e = await usageError(argv);
    expect(e.code).toBe(code);
    expect(e.exitCode).not.toBe(0);
  });
});
