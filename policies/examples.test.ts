// Every shipped example policy loads without issues, and the default path points at the built-in default.
import { readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_PATH, findPackageRoot } from './default-path.js';
import { describePolicy } from './describe.js';
import { formatIssue } from './errors.js';
import { loadPolicyFile } from './load.js';

const examplesDir = join(dirname(fileURLToPath(import.meta.url)), 'examples');
const files = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml'));

describe('example policies', () => {
  it('has the four documented examples', () => {
    expect(files.sort()).toEqual(['default.yaml', 'dry-run.yaml', 'paper-experiment.yaml', 'response-time.yaml']);
  });

  it.each(files)('%s loads ok', async (f) => {
    const r = await loadPolicyFile(join(examplesDir, f));
    if (r.kind === 'error') throw new Error(r.errors.map(formatIssue).join('\n'));
    expect(describePolicy(r.policy).split('\n').length).toBeGreaterThan(5);
  });

  it('DEFAULT_POLICY_PATH is examples/default.yaml under the package root', () => {
    expect(DEFAULT_POLICY_PATH).toBe(join(examplesDir, 'default.yaml'));
    expect(existsSync(DEFAULT_POLICY_PATH)).toBe(true);
    expect(existsSync(join(findPackageRoot(examplesDir) ?? '/nonexistent', 'package.json'))).toBe(true);
  });

  it('the default policy watches OpenNap on 8888 and 7777, learns, and has a query-rate cache-proxy rule', async () => {
    const r = await loadPolicyFile(DEFAULT_POLICY_PATH);
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    const p = r.policy;
    expect(p.protocols.opennap).toEqual({ enabled: true, ports: [8888, 7777] });
    expect(p.learn).toBe(true);
    expect(p.rules).toHaveLength(1);
    expect(p.rules[0]?.metric).toBe('query-rate');
    expect(p.rules[0]?.action.type).toBe('cache-proxy');
    expect(p.rules[0]?.clients).toEqual({ interfaces: [], addresses: [], except: [] });
  });

  it('the paper experiment moves only net B clients on eth-b', async () => {
    const r = await loadPolicyFile(join(examplesDir, 'paper-experiment.yaml'));
    if (r.kind !== 'ok') throw new Error('paper-experiment.yaml did not load');
    const rule = r.policy.rules[0];
    expect(rule?.clients.interfaces).toEqual(['eth-b']);
    expect(rule?.clients.addresses).toEqual([{ family: 4, ip: '10.201.2.0', prefix: 24 }]);
    expect(rule?.high.queryRate).toBe(10);
  });
});
