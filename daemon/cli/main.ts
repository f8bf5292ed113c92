#!/usr/bin/env node
/**
 * The `active-router` command line (commander). Each command group lives in
 * its own file and registers itself here; this file only assembles them and
 * turns a CLI usage error into exit code 2 with a one-line message.
 */
import { Command, CommanderError } from 'commander';
import { registerOpennapCommand } from './opennap-command.js';
import { registerPolicyCommand } from './policy-command.js';
import { registerReplayCommand } from './replay-command.js';
import { registerRunCommand } from './run-command.js';
import { registerStatusCommand } from './status-command.js';
import { registerCleanupCommand } from './cleanup-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerServersCommand } from './servers-command.js';
import { registerTestnetCommand } from './testnet-command.js';
import { applyV8Tuning } from '../v8-tuning.js';

export function buildProgram(): Command {
  const program = new Command('active-router')
    .description('Active router for P2P directory traffic (OpenNap, DHT, grid jobs)')
    .version('0.1.0')
    .showHelpAfterError()
    .enablePositionalOptions()
    .exitOverride();
  registerRunCommand(program);
  registerStatusCommand(program);
  registerCleanupCommand(program);
  registerOpennapCommand(program);
  registerReplayCommand(program);
  registerServersCommand(program);
  registerPolicyCommand(program);
  registerTestnetCommand(program);
  registerDemoCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`active-router: ${message}\n`);
    process.exitCode = 1;
  }
}

applyV8Tuning();
await main(process.argv);
