/**
 * `active-router demo`: the paper's experiment (seed 001 §5.3, Fig. 4–7) in
 * network namespaces with the real daemon, as `npm run demo` runs it
 * (test-net/experiment/run-experiment.ts). Prints the figures next to the
 * paper's and PASS/FAIL per property; exits 1 when a property fails.
 * SIGINT/SIGTERM abort the run; the test bed and its processes are removed.
 */
import type { Command } from 'commander';
import { runExperiment } from '../../test-net/experiment/run-experiment.js';
import { MAX_DURATION_SCALE, MIN_DURATION_SCALE } from '../../test-net/experiment/experiment-plan.js';
import { positiveNumber } from './opennap-command.js';

/** Where the demo writes results.json and the figures unless `--out` says otherwise. */
export const DEFAULT_DEMO_OUT = 'demo-out';

export interface DemoOptions {
  out: string;
  durationScale: number;
  keep: boolean;
  withoutDaemon: boolean;
}

/** Runs the experiment with signals wired to abort it; resolves with the process exit code (0 all pass, 1 otherwise). */
export async function runDemo(o: DemoOptions): Promise<number> {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    const outcome = await runExperiment({
      outDir: o.out,
      durationScale: o.durationScale,
      keepRaw: o.keep,
      withoutDaemon: o.withoutDaemon,
      signal: ac.signal,
    });
    return outcome.passed ? 0 : 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description("run the paper's experiment (Fig. 4-7) in network namespaces with the real daemon; needs root")
    .option('--out <DIR>', 'output directory (results.json, fig5-7 .svg/.png)', DEFAULT_DEMO_OUT)
    .option('--duration-scale <X>', `stretch or shrink the before/after phases (${MIN_DURATION_SCALE}-${MAX_DURATION_SCALE})`, positiveNumber, 1)
    .option('--keep', 'keep raw/ in the output directory: peer search logs, server and daemon logs, policy, state DB', false)
    .option('--without-daemon', 'baseline: the router stays a plain router (the takeover properties then fail)', false)
    .action(async (o: DemoOptions) => {
      process.exitCode = await runDemo(o);
    });
}
