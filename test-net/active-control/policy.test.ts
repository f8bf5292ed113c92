// Unit tests of the active-control policies (policy.ts): the valid one loads with the intended numbers, the invalid one is refused.
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../policies/index.js';
import { HIGH_QUERY_RATE, LOW_QUERY_RATE, B_SEARCH_RATE_PER_PEER, invalidPolicyYaml, testPolicyYaml } from './policy.js';

describe('active-control policies', () => {
  it('the valid policy loads: query-rate rule on eth-a, net B to the proxy, reset on release', () => {
    const loaded = loadPolicy(testPolicyYaml({ databasePath: '/tmp/x.db' }), 'p.yaml');
    if (loaded.kind !== 'ok') throw new Error('rejected');
    const rule = loaded.policy.rules[0];
    expect(loaded.policy.interfaces).toEqual(['eth-a']);
    expect(rule?.high.queryRate).toBe(HIGH_QUERY_RATE);
    expect(rule?.low.queryRate).toBe(LOW_QUERY_RATE);
    expect(rule?.clients.interfaces).toEqual(['eth-b']);
    expect(rule?.action).toMatchObject({ type: 'cache-proxy', onRelease: 'reset' });
    expect(loaded.policy.dryRun).toBe(false);
  });

  it('six B peers cross the high threshold and stay far from the low one', () => {
    expect(6 * B_SEARCH_RATE_PER_PEER).toBeGreaterThan(2 * HIGH_QUERY_RATE);
    expect(LOW_QUERY_RATE).toBeLessThan(HIGH_QUERY_RATE);
  });

  it('the dry-run variant sets dryRun and its own status port', () => {
    const loaded = loadPolicy(testPolicyYaml({ databasePath: '/tmp/x.db', dryRun: true, statusListen: '127.0.0.1:9901' }), 'p.yaml');
    expect(loaded.kind === 'ok' && loaded.policy.dryRun).toBe(true);
  });

  it('the invalid policy is refused, naming both broken fields', () => {
    const { yaml, issues } = invalidPolicyYaml({ databasePath: '/tmp/x.db' });
    expect(loadPolicy(yaml, 'bad.yaml').kind).toBe('error');
    expect(issues.join('\n')).toMatch(/queryRate/);
    expect(issues.join('\n')).toMatch(/type/);
  });
});
