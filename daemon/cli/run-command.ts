/**
 * `active-router run --policy FILE`: the daemon. Logs JSON lines (pino) to
 * stderr, as journald and log shippers expect. SIGHUP reloads the policy,
 * SIGTERM/SIGINT stop it and remove every rule of ours.
 */
import type { Command } from 'commander';
import { pino } from 'pino';
import { DEFAULT_POLICY_PATH } from '../../policies/index.js';
import type { StatusListen } from '../../policies/index.js';
import { RouterDaemon } from '../router-daemon.js';
import { parseListen, parseNonNegativeNumber } from './cli-args.js';

interface RunOptions {
  policy?: string;
  db?: string;
  status?: { host: string; port: number } | { path: string };
  statusFile?: string;
  activeAfter: number;
  dryRun?: boolean;
  interface?: string[];
}

function statusListenOf(v: RunOptions['status']): StatusListen | undefined {
  if (v === undefined) return undefined;
  if ('path' in v) return { kind: 'unix', path: v.path };
  return { kind: 'tcp', address: { family: v.host.includes(':') ? 6 : 4, ip: v.host, port: v.port } };
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the active router daemon (capture, analysis, manager, actuators, services)')
    .option('--policy <file>', 'policy file (default: the built-in default policy)')
    .option('--db <file>', "state database (default: the policy's database.path)")
    .option('--status <listen>', "status endpoint, HOST:PORT on localhost or unix:/path (default: the policy's)", parseListen)
    .option('--status-file <file>', 'also write the status JSON to this file every second')
    .option('--active-after <seconds>', 'measure only, as a plain router, for this long before acting', parseNonNegativeNumber, 0)
    .option('--dry-run', 'decide and print the exact rules, apply nothing')
    .option('--interface <name...>', "capture on these interfaces instead of the policy's")
    .action(async (opts: RunOptions) => {
      const log = pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
      const daemon = new RouterDaemon({
        policyPath: opts.policy ?? DEFAULT_POLICY_PATH,
        dbPath: opts.db,
        statusListen: statusListenOf(opts.status),
        statusFile: opts.statusFile,
        activeAfterS: opts.activeAfter,
        dryRun: opts.dryRun,
        interfaces: opts.interface,
        log,
      });
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log.info(`${signal}: stopping`);
        daemon.stop().then(
          () => {
            log.info('stopped');
            process.exit(0);
          },
          (err: unknown) => {
            log.error(`stop failed: ${String(err)}`);
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGHUP', () => {
        daemon.reload().catch((err: unknown) => log.error(`reload failed: ${String(err)}`));
      });
      try {
        await daemon.start();
      } catch (err) {
        log.error(`start failed: ${(err as Error).message}`);
        await daemon.stop().catch(() => undefined);
        throw err;
      }
      // Runs until a signal; the process stays alive on the capture and timers.
      await new Promise<never>(() => undefined);
    });
}
