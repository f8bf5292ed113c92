/**
 * The policies the active-control test runs the daemon with, in the format of
 * policies/ (see policies/examples/paper-experiment.yaml), checked with
 * `loadPolicy` before they are written so a mistake here fails as such.
 *
 * Why these numbers: the router captures on eth-a only (its side towards the
 * origin), where it sees what crosses it towards 10.201.1.10:8888: net B's
 * searches before the takeover, and the proxy's forwards plus the load the
 * proxy absorbs (the manager adds that) after it. Net A's peers reach the
 * origin over their own switch and are never seen. B_SEARCH_RATE is far
 * above HIGH and far below nothing: one tick of noise never decides, and the
 * load stopping drops it below LOW within one metric window.
 */
import { stringify } from 'yaml';
import { formatIssue, loadPolicy } from '../../policies/index.js';
import { PAPER_NET_B, PAPER_ROUTER_ADDR_B, PAPER_ROUTER_IF_A, PAPER_ROUTER_IF_B, PAPER_SERVER_ADDR } from '../topologies/paper.js';
import { TestPolicyError } from './errors.js';

export const ORIGIN_PORT = 8888;
export const PROXY_PORT = 9888;
/** Status endpoint inside the router namespace (each namespace has its own loopback, so no clash with the host). */
export const STATUS_LISTEN = '127.0.0.1:9900';
/** The dry-run daemon runs alone, but gets its own port so a lingering real daemon could never collide with it. */
export const DRY_RUN_STATUS_LISTEN = '127.0.0.1:9901';

/** Searches per second of each net B peer (6 peers): 30/s cross the router, 3x the high threshold. */
export const B_SEARCH_RATE_PER_PEER = 5;
/** QR_thH: a third of net B's load. */
export const HIGH_QUERY_RATE = 10;
/** QR_thL: a tenth of net B's load; reached only when net B stops searching. */
export const LOW_QUERY_RATE = 3;
/** Hold before acting: one tick above the threshold is not enough. */
export const HOLD_BEFORE_ACT = '1s';
/** Short holds and cooldown, so release and a second activation fit into one test run. */
export const HOLD_BEFORE_RELEASE = '2s';
export const COOLDOWN = '2s';
/** Metric window: the load stopping shows within it; long enough to hold several QR samples at 30/s. */
export const METRIC_WINDOW = '3s';
export const METRIC_TICK = '250ms';
/** N of the paper's QR: at 30 queries/s three samples a second. */
export const QUERIES_PER_SAMPLE = 10;

export interface TestPolicyInput {
  readonly databasePath: string;
  readonly statusListen?: string;
  readonly dryRun?: boolean;
}

export function testPolicyData(input: TestPolicyInput): Record<string, unknown> {
  return {
    interfaces: [PAPER_ROUTER_IF_A],
    learn: false,
    ...(input.dryRun === true ? { dryRun: true } : {}),
    protocols: { opennap: { enabled: true, ports: [ORIGIN_PORT] }, dht: { enabled: false }, grid: { enabled: false } },
    watch: [{ address: PAPER_SERVER_ADDR, port: ORIGIN_PORT, protocol: 'opennap' }],
    metrics: { window: METRIC_WINDOW, queriesPerSample: QUERIES_PER_SAMPLE, tick: METRIC_TICK },
    rules: [
      {
        name: 'active-control',
        servers: { addresses: [PAPER_SERVER_ADDR], ports: [ORIGIN_PORT] },
        metric: 'query-rate',
        high: { queryRate: HIGH_QUERY_RATE },
        low: { queryRate: LOW_QUERY_RATE },
        holdBeforeAct: HOLD_BEFORE_ACT,
        holdBeforeRelease: HOLD_BEFORE_RELEASE,
        cooldown: COOLDOWN,
        clients: { interfaces: [PAPER_ROUTER_IF_B], addresses: [PAPER_NET_B] },
        action: { type: 'cache-proxy', listen: `${PAPER_ROUTER_ADDR_B}:${PROXY_PORT}`, cacheTtl: '5m', onRelease: 'reset' },
      },
    ],
    status: { listen: input.statusListen ?? STATUS_LISTEN },
    database: { path: input.databasePath },
  };
}

/** The policy as YAML; TestPolicyError when `loadPolicy` rejects it. */
export function testPolicyYaml(input: TestPolicyInput): string {
  const yaml = `# active-control integration test (test-net/active-control/policy.ts)\n${stringify(testPolicyData(input))}`;
  const loaded = loadPolicy(yaml, 'active-control.yaml');
  if (loaded.kind === 'error') throw new TestPolicyError(`generated policy rejected:\n${loaded.errors.map(formatIssue).join('\n')}`);
  return yaml;
}

/**
 * A policy the daemon must refuse on SIGHUP: the valid one with a negative
 * high threshold and an unknown action type (two schema errors, so a reload
 * that checked only one field would still be caught). Verified here to be
 * rejected by `loadPolicy`, so the test proves the daemon's refusal, not a typo.
 */
export function invalidPolicyYaml(input: TestPolicyInput): { yaml: string; issues: string[] } {
  const data = testPolicyData(input);
  const rules = data.rules as Record<string, unknown>[];
  const rule = rules[0] as Record<string, unknown>;
  rule.high = { queryRate: -5 };
  rule.action = { ...(rule.action as Record<string, unknown>), type: 'teleport' };
  const yaml = `# deliberately invalid (active-control SIGHUP test)\n${stringify(data)}`;
  const loaded = loadPolicy(yaml, 'invalid.yaml');
  if (loaded.kind === 'ok') throw new TestPolicyError('the deliberately invalid policy was accepted by loadPolicy');
  return { yaml, issues: loaded.errors.map(formatIssue) };
}
