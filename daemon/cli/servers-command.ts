/**
 * `active-router servers --db FILE [--json] [--window SECONDS]`: the per-server
 * table of `replay`, read from a live (or kept) state database.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { openState } from '../state/index.js';
import { parsePositiveNumber } from './cli-args.js';
import { formatServerTable, rowOf } from './server-table.js';

export function registerServersCommand(program: Command): void {
  program
    .command('servers')
    .description('print the per-server table from a state database')
    .requiredOption('--db <file>', 'state database written by `run` or `replay --db`')
    .option('--json', 'print one JSON object instead of the table')
    .option('--window <seconds>', 'metric window ending now (default: everything in the database)', parsePositiveNumber)
    .action((opts: { db: string; json?: boolean; window?: number }) => {
      if (!existsSync(opts.db)) throw new Error(`no state database at ${opts.db}`);
      const state = openState(opts.db);
      try {
        const servers = state.reader.listServers();
        const lastSeen = Math.max(0, ...servers.map((s) => s.lastSeen));
        const firstSeen = Math.min(lastSeen, ...servers.map((s) => s.firstSeen));
        const now = opts.window ? Date.now() : lastSeen + 0.5;
        const windowMs = opts.window ? opts.window * 1000 : Math.max(1, lastSeen - firstSeen + 1);
        const rows = state.reader.serverSummary(windowMs, now).map(rowOf);
        const counters = Object.fromEntries(state.reader.counters().map((c) => [c.name, c.value]));
        if (opts.json) process.stdout.write(JSON.stringify({ servers: rows, counters }) + '\n');
        else process.stdout.write(formatServerTable(rows, counters));
      } finally {
        state.close();
      }
    });
}
