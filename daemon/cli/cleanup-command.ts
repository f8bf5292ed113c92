/**
 * `active-router cleanup`: removes every iptables rule and chain of ours in
 * this network namespace (what a SIGTERM does; for after a `kill -9` when the
 * daemon will not be started again, and for uninstall).
 */
import type { Command } from 'commander';
import { IptablesActuator } from '../actuators/iptables-actuator.js';

export function registerCleanupCommand(program: Command): void {
  program
    .command('cleanup')
    .description('remove every iptables rule and chain of active-router in this network namespace')
    .action(async () => {
      const iptables = await IptablesActuator.create();
      const result = await iptables.clear();
      const families = Object.keys(result.scripts);
      process.stdout.write(result.applied ? `removed active-router rules (${iptables.backend.kind} backend, IPv${families.join('/IPv')})\n` : 'no active-router rules found\n');
    });
}
