/**
 * Test fixture: the `testnet` command group as a stand-alone program, so the
 * integration test can run `testnet up|down|exec|list` in real child
 * processes (and SIGTERM/SIGKILL them) without depending on how the main CLI
 * is assembled. Run with vite-node: `vite-node test-net/testnet-cli.fixture.ts -- testnet up ...`.
 */
import { Command, CommanderError } from 'commander';
import { registerTestnetCommand } from '../daemon/cli/testnet-command.js';

const program = new Command('active-router').exitOverride();
registerTestnetCommand(program);
// vite-node drops every `--` from the arguments, so the test hands the exact argv over as JSON.
const fromEnv = process.env.TESTNET_FIXTURE_ARGV;
const user = fromEnv === undefined ? process.argv.slice(2) : (JSON.parse(fromEnv) as string[]);
try {
  await program.parseAsync(user, { from: 'user' });
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
  else {
    process.stderr.write(`active-router: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
