// Test harness for CLI command groups: a program with one group registered, all output swallowed and every
// exit turned into a thrown CommanderError, so tests can assert on usage errors by code.
import { Command, CommanderError } from 'commander';

export function quietProgram(register: (program: Command) => void): Command {
  const quiet = { writeErr: () => undefined, writeOut: () => undefined };
  const p = new Command('active-router').exitOverride().configureOutput(quiet);
  register(p);
  for (const c of p.commands) {
    c.exitOverride().configureOutput(quiet);
    for (const s of c.commands) s.exitOverride().configureOutput(quiet);
  }
  return p;
}

/** The CommanderError `argv` ends in; fails the test when the command line is accepted. */
export async function usageError(register: (program: Command) => void, argv: string[]): Promise<CommanderError> {
  try {
    await quietProgram(register).parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e;
    throw e;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}
