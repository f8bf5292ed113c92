/**
 * `active-router opennap serve|search|peers`: the OpenNap directory server,
 * a one-shot search, and the paper's peer workload (seed 001 §5.3) from the
 * command line. Usage errors (a bad HOST:PORT or number) are commander
 * InvalidArgumentErrors, which main.ts turns into exit code 2.
 */
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { OpenNapClient } from '../../opennap/client.js';
import { runPeerWorkload } from '../../opennap/peer-workload.js';
import type { PeerWorkloadSummary } from '../../opennap/peer-workload.js';
import { keywordsOf, MAX_RESULTS_CAP, serializeSearch } from '../../opennap/search-expression.js';
import { OpenNapServer } from '../../opennap/server.js';
import type { OpenNapServerOptions } from '../../opennap/server.js';
import type { ServerStatsSnapshot } from '../../opennap/server-stats.js';

/** How often `serve` prints its stats line by default. */
export const DEFAULT_STATS_INTERVAL_S = 10;

// ── argument parsers (each throws InvalidArgumentError: exit code 2) ───────

/** `HOST:PORT` (IPv6 as `[addr]:port`). */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:\s]+):(\d{1,5})$/.exec(value);
  const port = m === null ? Number.NaN : Number(m[2]);
  if (m === null || !(port >= 1 && port <= 65535)) {
    throw new InvalidArgumentError(`expected HOST:PORT with a port 1-65535, got "${value}"`);
  }
  return { host: m[1]!, port };
}

export function intIn(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer ${min}-${max}, got "${value}"`);
    return n;
  };
}

export function positiveNumber(value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

function group(value: string): 'A' | 'B' {
  const g = value.toUpperCase();
  if (g !== 'A' && g !== 'B') throw new InvalidArgumentError(`expected A or B, got "${value}"`);
  return g;
}

// ── serve ─────────────────────────────────────────────────────────────────

export function formatStats(s: ServerStatsSnapshot): string {
  const errors = Object.entries(s.errors)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `users=${s.users} files=${s.files} connections=${s.connections} searches=${s.searches} searches/s=${s.searchesPerSecond} results=${s.resultsSent}${errors.length > 0 ? ` ${errors}` : ''}`;
}

/** Runs a server until `signal` aborts; prints the listening line and a stats line every `statsIntervalS`. */
export async function runServe(
  options: OpenNapServerOptions & { statsIntervalS: number },
  signal: AbortSignal,
  print: (line: string) => void,
): Promise<ServerStatsSnapshot> {
  const server = new OpenNapServer(options);
  await server.start();
  const addr = server.address();
  print(`opennap server listening on ${addr.host}:${addr.port}`);
  const timer = setInterval(() => print(formatStats(server.stats())), options.statsIntervalS * 1000);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  clearInterval(timer);
  const last = server.stats();
  await server.stop();
  print(`opennap server stopped: ${formatStats(last)}`);
  return last;
}

/** Runs `fn` with an AbortSignal that fires on SIGINT or SIGTERM; the handlers are removed when `fn` ends. */
async function untilTerminated<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

// ── search ────────────────────────────────────────────────────────────────

export interface SearchCommandOptions {
  max: number;
  timeout: number;
  nick?: string;
  dataPort: number;
}

/** Logs in with a random nick, searches once, prints one line per result and a count with the time taken. */
export async function runSearch(
  target: { host: string; port: number },
  keywords: readonly string[],
  o: SearchCommandOptions,
  print: (line: string) => void,
): Promise<number> {
  const client = new OpenNapClient();
  try {
    await client.connect({ ...target, timeoutMs: o.timeout });
    await client.login({
      nick: o.nick ?? `search${randomBytes(4).toString('hex')}`,
      password: 'search',
      port: o.dataPort,
      clientInfo: 'active-router search',
      linkType: 0,
      timeoutMs: o.timeout,
    });
    const query = serializeSearch({ include: keywordsOf(keywords.join(' ')), exclude: [], maxResults: o.max });
    const out = await client.search(query, { timeoutMs: o.timeout });
    for (const r of out.results) print(`${r.filename}\t${r.size}\t${r.bitrate}\t${r.nick}\t${r.ip}`);
    for (const e of out.errors) print(`server: ${e}`);
    const ms = (out.firstResultAt ?? Date.now()) - out.sentAt;
    print(`${out.results.length} results in ${ms} ms${out.endedBy === 'timeout' ? ' (timed out)' : ''}`);
    return out.results.length;
  } finally {
    await client.close();
  }
}

export function formatSummary(s: PeerWorkloadSummary): string {
  const ms = (v: number | null): string => (v === null ? '-' : `${v} ms`);
  return [
    `peers=${s.peers} searches=${s.searches} answered=${s.answered} timed-out=${s.timedOut} interrupted=${s.interrupted} skipped=${s.skipped}`,
    `results=${s.results} mean-results=${s.meanResults.toFixed(2)} p50=${ms(s.p50ResponseMs)} p99=${ms(s.p99ResponseMs)}`,
    `connects=${s.connects} reconnects=${s.reconnects} login-failures=${s.loginFailures} log-dropped=${s.logDropped} duration=${(s.durationMs / 1000).toFixed(1)} s out=${s.out}`,
  ].join('\n');
}

// ── registration ──────────────────────────────────────────────────────────

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export function registerOpennapCommand(program: Command): void {
  const opennap = program.command('opennap').description('OpenNap directory server, search client and peer workload');

  opennap
    .command('serve')
    .description('run an OpenNap directory server until SIGINT/SIGTERM')
    .requiredOption('--port <P>', 'TCP port to listen on', intIn(0, 65535))
    .option('--host <ADDR>', 'address to listen on', '0.0.0.0')
    .option('--max-users <N>', 'users online at once', intIn(1, 1_000_000))
    .option('--name <NAME>', 'server name (used in login acks)')
    .option('--stats-interval <S>', 'seconds between stats lines', positiveNumber, DEFAULT_STATS_INTERVAL_S)
    .action(async (o: { port: number; host: string; maxUsers?: number; name?: string; statsInterval: number }) => {
      const options = {
        host: o.host,
        port: o.port,
        statsIntervalS: o.statsInterval,
        ...(o.maxUsers !== undefined ? { maxUsers: o.maxUsers } : {}),
        ...(o.name !== undefined ? { name: o.name } : {}),
      };
      await untilTerminated((signal) => runServe(options, signal, print));
    });

  opennap
    .command('search')
    .description('log in with a random nick, search once and print the results')
    .argument('<HOST:PORT>', 'server address', parseHostPort)
    .argument('<KEYWORDS...>', 'keywords (all must match)')
    .option('--max <N>', 'MAX_RESULTS', intIn(1, MAX_RESULTS_CAP), MAX_RESULTS_CAP)
    .option('--timeout <MS>', 'timeout for connect, login and the search', intIn(1, 3_600_000), 10_000)
    .option('--nick <NICK>', 'nick to log in with (default: random)')
    .option('--data-port <N>', 'data port announced at login (0 = firewalled)', intIn(0, 65535), 6699)
    .action(async (target: { host: string; port: number }, keywords: string[], o: SearchCommandOptions) => {
      await runSearch(target, keywords, o, print);
    });

  opennap
    .command('peers')
    .description("run the paper's peer workload and write one JSON line per search")
    .requiredOption('--server <HOST:PORT>', 'server address', parseHostPort)
    .requiredOption('--count <N>', 'number of peers', intIn(1, 5000))
    .requiredOption('--rate <R>', 'searches per second per peer', positiveNumber)
    .addOption(new Option('--catalogue <NAME>', 'file catalogue').choices(['paper']).default('paper'))
    .requiredOption('--group <G>', 'catalogue group the peers share: A or B', group)
    .requiredOption('--duration <SECONDS>', 'how long to run', positiveNumber)
    .requiredOption('--out <FILE>', 'search log (.jsonl)')
    .option('--seed <S>', 'seed of file assignment and keyword draws', intIn(0, 2 ** 31 - 1), 1)
    .option('--local-address <ADDR>', 'local address to connect from')
    .option('--nick-prefix <P>', 'nick prefix (default peer<group>)')
    .option('--data-port-base <N>', 'data port of the first peer', intIn(1, 65535), 6700)
    .option('--peer-index <I>', 'with --peer-total: this process runs peers I… of the group and shares only their files', intIn(0, 100_000))
    .option('--peer-total <N>', 'peers of the group across all processes (files are dealt among all of them)', intIn(1, 100_000))
    .action(
      async (o: {
        server: { host: string; port: number };
        count: number;
        rate: number;
        catalogue: 'paper';
        group: 'A' | 'B';
        duration: number;
        out: string;
        seed: number;
        localAddress?: string;
        nickPrefix?: string;
        dataPortBase: number;
        peerIndex?: number;
        peerTotal?: number;
      }) => {
        const summary = await untilTerminated((signal) =>
          runPeerWorkload({
          server: o.server,
          count: o.count,
          rate: o.rate,
          catalogue: o.catalogue,
          group: o.group,
          durationS: o.duration,
          seed: o.seed,
          out: o.out,
          dataPortBase: o.dataPortBase,
          signal,
          ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
          ...(o.nickPrefix !== undefined ? { nickPrefix: o.nickPrefix } : {}),
          ...(o.peerTotal !== undefined ? { peerTotal: o.peerTotal, peerIndex: o.peerIndex ?? 0 } : {}),
        }),
        );
        print(formatSummary(summary));
      },
    );
}
