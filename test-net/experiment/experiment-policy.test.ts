// Unit tests of the experiment's plan and generated policy (experiment-plan.ts, experiment-policy.ts).
import { describe, expect, it } from 'vitest';
import { PAPER_ROUTER_IF_A, PAPER_ROUTER_IF_B } from '../topologies/paper.js';
import { ExperimentOptionError } from './errors.js';
import { planExperiment, PROXY_PORT } from './experiment-plan.js';
import { experimentPolicy } from './experiment-policy.js';
import { parseOriginSearches } from './origin-stats.js';

describe('planExperiment', () => {
  it('compresses the paper ×10: one search per 0.2 s per peer, 35/s on net A, 30/s on net B', () => {
    const p = planExperiment();
    expect(p).toMatchObject({ timeCompression: 10, searchPeriodS: 0.2, searchRatePerPeer: 5, expectedNetARate: 35, expectedNetBRate: 30 });
    expect(p).toMatchObject({ beforeS: 20, afterS: 30, peerDurationS: 56, activeAfterS: 26 });
  });
  it('scales the phases', () => {
    expect(planExperiment({ beforeS: 10, afterS: 15, durationScale: 2 })).toMatchObject({ beforeS: 20, afterS: 30 });
  });
  it.each([{ durationScale: 0.1 }, { durationScale: 5 }, { durationScale: Number.NaN }, { beforeS: 2 }, { afterS: 0 }, { afterS: -3 }])('rejects %j', (input) => {
    expect(() => planExperiment(input)).toThrow(ExperimentOptionError);
  });
});

describe('experimentPolicy', () => {
  const plan = planExperiment();
  const p = experimentPolicy({ plan, databasePath: '/tmp/x/state.db' });

  it('loads with loadPolicy and captures on the server side', () => {
    expect(p.policy.interfaces).toEqual([PAPER_ROUTER_IF_A]);
    expect(p.policy.database.path).toBe('/tmp/x/state.db');
    expect(p.policy.learn).toBe(false);
  });

  it('uses the query-rate metric with thresholds from net B’s rate', () => {
    const rule = p.policy.rules[0];
    expect(rule?.metric).toBe('query-rate');
    expect(p.highQueryRate).toBe(15);
    expect(p.lowQueryRate).toBe(1.5);
    expect(p.highQueryRate).toBeLessThan(plan.expectedNetBRate);
    expect(rule?.holdBeforeActMs).toBe(1000);
    // Never released within a run.
    expect(rule?.holdBeforeReleaseMs).toBeGreaterThan((plan.peerDurationS + 60) * 1000);
  });

  it('moves net B’s clients to a cache proxy on the router’s net B address', () => {
    const rule = p.policy.rules[0];
    expect(rule?.clients.interfaces).toEqual([PAPER_ROUTER_IF_B]);
    expect(rule?.action.type).toBe('cache-proxy');
    expect(rule?.action.listen.port).toBe(PROXY_PORT);
    expect(p.yaml).toContain('listen: 10.201.2.1:9888');
    expect(rule?.action.cacheTtlMs).toBeGreaterThan(plan.peerDurationS * 1000);
  });
});

describe('parseOriginSearches', () => {
  it.each([
    ['users=13 files=780 connections=13 searches=1234 searches/s=65 results=9000', 1234],
    ['searches=0', 0],
    ['opennap server listening on 10.201.1.10:8888', null],
    ['searches/s=65', null],
    ['searches=12x', null],
  ])('%j → %s', (line, want) => {
    expect(parseOriginSearches(line)).toBe(want);
  });
});
