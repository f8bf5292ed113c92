/**
 * The timing and load of the paper's experiment (seed 001 §5.3, Fig. 4–7),
 * compressed in time. Pure: from the requested durations and scale to every
 * number the runner, the policy and the analysis need.
 *
 * The paper's peers search once every 2 s and its router turns active at
 * 160 s; here every peer searches every 0.2 s (time compressed ×10) so the
 * whole run fits in two minutes. Loads scale with it: every rate printed is
 * in real (compressed) seconds, the paper's figures are compared after
 * multiplying theirs by the compression factor.
 */
import { ExperimentOptionError } from './errors.js';

/** The paper's search period per peer (seed 001 §5.3: "once every two seconds"). */
export const PAPER_SEARCH_PERIOD_S = 2;

/** Time compression: ×10 keeps 13 peers at 65 searches/s in total, light for 2 cores, and the run under two minutes. */
export const TIME_COMPRESSION = 10;

/** Peers 1–7 on net A, 8–13 on net B (seed 001 Fig. 4). */
export const NET_A_PEERS = 7;
export const NET_B_PEERS = 6;

/** Seconds of plain routing with the peers running, before the router turns active (the demo's default). */
export const DEFAULT_BEFORE_S = 20;
/** Seconds after the router turns active (the demo's default). */
export const DEFAULT_AFTER_S = 30;

/**
 * Bounds of `--duration-scale`: below 0.25 the "before" phase is shorter
 * than the daemon's metric window needs to fill; above 4 a run passes ten
 * minutes and the CI time budget with it.
 */
export const MIN_DURATION_SCALE = 0.25;
export const MAX_DURATION_SCALE = 4;

/** Start of the run (from spawning the peers) never counted in "before": logins, shares, first searches. */
export const WARMUP_S = 3;

/**
 * Time from the daemon's start until every peer searches: the daemon's
 * first status file (~1–2 s), then 13 node processes starting on 2 cores
 * (~4 s). `--active-after` and the peers' duration both include it.
 */
export const PEER_START_ALLOWANCE_S = 6;

/** The origin server's port (the usual OpenNap port) and the proxy's port on the router's net B address. */
export const ORIGIN_PORT = 8888;
export const PROXY_PORT = 9888;

/** The daemon's status endpoint inside the router namespace (the policy's `status.listen`). */
export const STATUS_LISTEN = '127.0.0.1:9900';

/** How often the origin prints its search counter; 0.5 s gives two samples per 1 s bin of Fig. 5. */
export const ORIGIN_STATS_INTERVAL_S = 0.5;

/** How often the runner reads the daemon's status file (the daemon rewrites it every second). */
export const STATUS_POLL_MS = 500;

export interface ExperimentPlanInput {
  beforeS?: number;
  afterS?: number;
  durationScale?: number;
}

export interface ExperimentPlan {
  timeCompression: number;
  /** Searches per second per peer. */
  searchRatePerPeer: number;
  searchPeriodS: number;
  beforeS: number;
  afterS: number;
  /** `--active-after` for the daemon: counted from the daemon's start, which precedes the peers' by PEER_START_ALLOWANCE_S. */
  activeAfterS: number;
  /** `--duration` of every peer process: before + after + the start-up allowance (they start before the router turns active). */
  peerDurationS: number;
  /** Query rates the router will see on eth-a (the server-facing side): net B's peers only, since net A reaches the server over the switch. */
  expectedNetBRate: number;
  expectedNetARate: number;
  warmupS: number;
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new ExperimentOptionError(`${name} must be a positive number of seconds, got ${v}`);
  return v;
}

export function planExperiment(input: ExperimentPlanInput = {}): ExperimentPlan {
  const scale = input.durationScale ?? 1;
  if (!Number.isFinite(scale) || scale < MIN_DURATION_SCALE || scale > MAX_DURATION_SCALE) {
    throw new ExperimentOptionError(`duration scale must be ${MIN_DURATION_SCALE}…${MAX_DURATION_SCALE}, got ${scale}`);
  }
  const beforeS = positive('before', (input.beforeS ?? DEFAULT_BEFORE_S) * scale);
  const afterS = positive('after', (input.afterS ?? DEFAULT_AFTER_S) * scale);
  if (beforeS <= WARMUP_S) throw new ExperimentOptionError(`the before phase (${beforeS} s) must be longer than the warm-up (${WARMUP_S} s)`);
  const searchPeriodS = PAPER_SEARCH_PERIOD_S / TIME_COMPRESSION;
  const searchRatePerPeer = 1 / searchPeriodS;
  return {
    timeCompression: TIME_COMPRESSION,
    searchRatePerPeer,
    searchPeriodS,
    beforeS,
    afterS,
    activeAfterS: PEER_START_ALLOWANCE_S + beforeS,
    peerDurationS: PEER_START_ALLOWANCE_S + beforeS + afterS,
    expectedNetBRate: NET_B_PEERS * searchRatePerPeer,
    expectedNetARate: NET_A_PEERS * searchRatePerPeer,
    warmupS: WARMUP_S,
  };
}
