// Loader: good policies give typed, defaults-filled values; bad ones give issues naming file, line, column and field.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_PATH } from './default-path.js';
import { PolicyError, formatIssue } from './errors.js';
import type { PolicyIssue } from './errors.js';
import { MAX_POLICY_BYTES, MAX_REPORTED_ISSUES } from './limits.js';
import { loadPolicy, loadPolicyFile } from './load.js';

const F = 'test.yaml';

function issues(text: string): PolicyIssue[] {
  const r = loadPolicy(text, F);
  if (r.kind === 'ok') throw new Error('expected the policy to be refused');
  return r.errors;
}

const minimalRule = ['rules:', '  - name: r', '    metric: query-rate', '    high: { queryRate: 10 }', '    low: { queryRate: 5 }'];

describe('loadPolicy: good policies', () => {
  it('fills every default from an empty mapping', () => {
    const r = loadPolicy('{}', F);
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.policy).toEqual({
      source: F,
      interfaces: ['any'],
      capture: { snaplen: 65535, bufferBytes: 128 * 1024 * 1024 },
      watch: [],
      learn: true,
      protocols: {
        opennap: { enabled: true, ports: [8888, 7777] },
        dht: { enabled: true, ports: [6881] },
        grid: { enabled: true, ports: [] },
      },
      metrics: { windowMs: 10_000, queriesPerSample: 10, tickMs: 500 },
      rules: [],
      dryRun: false,
      status: { listen: { kind: 'tcp', address: { family: 4, ip: '127.0.0.1', port: 9900 } } },
      database: { path: '/var/lib/active-router/state.db', retentionMs: 3_600_000, writer: 'thread' },
    });
  });

  it('converts a rule: durations to ms, sizes to bytes, addresses parsed, defaults filled', () => {
    const text = [
      'rules:',
      '  - name: overload',
      '    servers: { addresses: ["10.0.1.0/24"], ports: [8888] }',
      '    metric: both',
      '    high: { queryRate: 10, responseTimeMs: 300 }',
      '    low: { queryRate: 5, responseTimeMs: 100 }',
      '    holdBeforeAct: 2s',
      '    cooldown: 1m',
      '    clients: { interfaces: [eth-b], addresses: ["2001:db8::/48"], except: ["2001:db8::5"] }',
      '    action: { listen: "10.0.2.1:9888", cacheBytes: 1MB, cacheTtl: 90s }',
    ].join('\n');
    const r = loadPolicy(text, F);
    if (r.kind !== 'ok') throw new Error(r.errors.map(formatIssue).join('\n'));
    expect(r.policy.rules[0]).toEqual({
      name: 'overload',
      servers: { addresses: [{ family: 4, ip: '10.0.1.0', prefix: 24 }], ports: [8888], protocols: [] },
      metric: 'both',
      high: { queryRate: 10, responseTimeMs: 300 },
      low: { queryRate: 5, responseTimeMs: 100 },
      holdBeforeActMs: 2000,
      holdBeforeReleaseMs: 10_000,
      cooldownMs: 60_000,
      clients: {
        interfaces: ['eth-b'],
        addresses: [{ family: 6, ip: '2001:db8::', prefix: 48 }],
        except: [{ family: 6, ip: '2001:db8::5' }],
      },
      action: {
        type: 'cache-proxy',
        listen: { family: 4, ip: '10.0.2.1', port: 9888 },
        backends: [],
        cacheTtlMs: 90_000,
        cacheEntries: 10_000,
        cacheBytes: 1024 * 1024,
        onRelease: 'drain',
        upstreamTimeoutMs: 3000,
      },
    });
  });

  it('takes the watch port from the address or the port field', () => {
    const r = loadPolicy('watch:\n  - { address: "10.0.0.1:7777", protocol: opennap }\n  - { address: "::1", port: 6881, protocol: dht }\n', F);
    if (r.kind !== 'ok') throw new Error('refused');
    expect(r.policy.watch).toEqual([
      { address: { family: 4, ip: '10.0.0.1', port: 7777 }, port: 7777, protocol: 'opennap' },
      { address: { family: 6, ip: '::1' }, port: 6881, protocol: 'dht' },
    ]);
  });

  it('accepts a unix status socket and durations as numbers (ms)', () => {
    const r = loadPolicy('status: { listen: "unix:/run/ar.sock" }\nmetrics: { window: 2500, tick: 250 }\n', F);
    if (r.kind !== 'ok') throw new Error('refused');
    expect(r.policy.status.listen).toEqual({ kind: 'unix', path: '/run/ar.sock' });
    expect(r.policy.metrics.windowMs).toBe(2500);
  });
});

// [what, text, expected issues as "LINE:COL path code", a fragment of the first message]
const BAD: Array<[string, string, string[], string]> = [
  ['unknown top-level field', 'interfaces: [any]\ndryrun: true\n', ['2:1 dryrun unknown_field'], 'did you mean "dryRun"?'],
  ['unknown nested field', [...minimalRule, '    hold: 1s'].join('\n'), ['6:5 rules[0].hold unknown_field'], 'unknown field "hold"'],
  ['wrong type', 'learn: "yes"\n', ['1:8 learn wrong_type'], 'expected true or false, got "yes"'],
  ['wrong type for a duration', 'metrics:\n  window: [10]\n', ['2:11 metrics.window wrong_type'], 'expected a duration such as'],
  ['low >= high', minimalRule.join('\n').replace('queryRate: 10', 'queryRate: 3'), ['4:24 rules[0].high.queryRate threshold_order'],
    'expected a number greater than rules[0].low.queryRate (5), got 3'],
  ['low equal to high', minimalRule.join('\n').replace('queryRate: 10', 'queryRate: 5'), ['4:24 rules[0].high.queryRate threshold_order'], 'got 5'],
  ['threshold the metric needs', minimalRule.join('\n').replace('{ queryRate: 5 }', '{}'), ['5:10 rules[0].low.queryRate threshold_missing'],
    'required when metric is query-rate'],
  ['threshold the metric ignores', minimalRule.join('\n').replace('{ queryRate: 5 }', '{ queryRate: 5, responseTimeMs: 9 }'),
    ['5:42 rules[0].low.responseTimeMs threshold_unused'], 'not read when metric is query-rate'],
  ['bad CIDR prefix', 'watch:\n  - address: 10.0.0.0/40\n    protocol: opennap\n', ['2:14 watch[0].address bad_address'], 'from 0 to 32'],
  ['CIDR with host bits', [...minimalRule, '    clients: { addresses: [10.0.2.1/24] }'].join('\n'),
    ['6:28 rules[0].clients.addresses[0] bad_address'], 'did you mean 10.0.2.0/24?'],
  ['bad IPv6', 'watch:\n  - { address: "2001:db8:::1", protocol: dht }\n', ['2:16 watch[0].address bad_address'], 'not an IPv4 or IPv6'],
  ['bad duration', [...minimalRule, '    cooldown: 30 seconds'].join('\n'), ['6:15 rules[0].cooldown bad_duration'], 'got "30 seconds"'],
  ['bad size', [...minimalRule, '    action: { cacheBytes: 64 megs }'].join('\n'), ['6:27 rules[0].action.cacheBytes bad_size'], 'got "64 megs"'],
  ['YAML syntax error', 'rules:\n  - name: x\n   metric: both\n', ['3:1 - yaml_syntax'], 'Sequence item without - indicator'],
  ['YAML tab indentation', 'learn: true\n\tdryRun: true\n', ['2:1 - yaml_syntax'], 'Tabs are not allowed'],
  ['duplicate key', 'learn: true\nlearn: false\n', ['2:1 - yaml_syntax'], 'unique'],
  ['missing required field', 'rules:\n  - name: x\n    high: { queryRate: 2 }\n    low: { queryRate: 1 }\n',
    ['2:5 rules[0].metric missing_field'], 'required field is missing'],
  ['enum typo', [...minimalRule.slice(0, 2), '    metric: query_rate', ...minimalRule.slice(3)].join('\n'),
    ['3:13 rules[0].metric bad_value'], '(did you mean "query-rate"?)'],
  ['port out of range', 'protocols:\n  opennap: { ports: [8888, 70000] }\n', ['2:28 protocols.opennap.ports[1] bad_value'],
    'expected a whole number from 1 to 65535, got 70000'],
  ['status on a public address', 'status: { listen: "0.0.0.0:9900" }\n', ['1:19 status.listen bad_address'], 'loopback'],
  ['duplicate rule names', [...minimalRule, ...minimalRule.slice(1)].join('\n'), ['6:11 rules[1].name conflict'], 'already used by rules[0]'],
  ['watch port contradicts address', 'watch:\n  - { address: "10.0.0.1:7777", port: 8888, protocol: opennap }\n',
    ['2:39 watch[0].port conflict'], 'contradicts'],
  ['cache field on a load balancer', [...minimalRule, '    action: { type: load-balance, cacheTtl: 5s }'].join('\n'),
    ['6:45 rules[0].action.cacheTtl conflict'], 'only used by action type cache-proxy'],
  ['rule on a disabled protocol', ['protocols: { dht: { enabled: false } }', ...minimalRule, '    servers: { protocols: [dht] }'].join('\n'),
    ['7:28 rules[0].servers.protocols[0] conflict'], 'switched off'],
  ['any with named interfaces', 'interfaces: [any, eth0]\n', ['1:13 interfaces conflict'], '"any" already'],
  ['bad interface name', 'interfaces: ["this-name-is-too-long"]\n', ['1:14 interfaces[0] bad_interface'], 'Linux interface name'],
  ['tick longer than window', 'metrics: { window: 1s, tick: 2s }\n', ['1:30 metrics.tick bad_value'], 'at most metrics.window'],
  ['not a mapping', '- a\n- b\n', ['1:1 - not_a_mapping'], 'expected a mapping of policy fields, got a list'],
  ['empty file', '', ['1:1 - not_a_mapping'], 'got nothing'],
];

describe('loadPolicy: bad policies', () => {
  it.each(BAD)('%s', (_what, text, expected, fragment) => {
    const got = issues(text);
    expect(got.map((i) => `${i.line}:${i.column} ${i.path === '' ? '-' : i.path} ${i.code}`)).toEqual(expected);
    expect(got[0]?.file).toBe(F);
    expect(got[0]?.message).toContain(fragment);
  });

  it('reports every schema problem at once, in text order', () => {
    const got = issues('learn: 1\ncapture: { snaplen: 10 }\nfoo: 1\n');
    expect(got.map((i) => i.path)).toEqual(['learn', 'capture.snaplen', 'foo']);
  });

  it('formats issues as FILE:LINE:COL: field: message', () => {
    const [first] = issues('learn: "yes"\n');
    expect(first && formatIssue(first)).toBe('test.yaml:1:8: learn: expected true or false, got "yes"');
  });

  it('caps the number of listed issues and says how many more there were', () => {
    const text = Array.from({ length: MAX_REPORTED_ISSUES + 7 }, (_, i) => `typo${i}: 1`).join('\n');
    const got = issues(text);
    expect(got).toHaveLength(MAX_REPORTED_ISSUES + 1);
    expect(got.at(-1)?.code).toBe('too_many_issues');
    expect(got.at(-1)?.message).toMatch(/^7 more/);
  });

  it('refuses alias bombs instead of expanding them', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]'].join('\n');
    expect(issues(bomb).map((i) => i.code)).toEqual(['yaml_alias_limit']);
  });

  it('refuses oversized text', () => {
    expect(issues(`# ${'x'.repeat(MAX_POLICY_BYTES)}`).map((i) => i.code)).toEqual(['file_too_large']);
  });

  it('PolicyError carries the issues and a stable code', () => {
    const e = new PolicyError(issues('learn: "yes"\ndryRun: 2\n'));
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('PolicyError');
    expect(e.code).toBe('ERR_POLICY_INVALID');
    expect(e.issues).toHaveLength(2);
    expect(e.message).toBe('test.yaml:1:8: learn: expected true or false, got "yes" (and 1 more)');
  });
});

describe('loadPolicyFile', () => {
  it('turns a missing file into an issue', async () => {
    const r = await loadPolicyFile('/nonexistent/policy.yaml');
    expect(r.kind).toBe('error');
    if (r.kind === 'error') expect(r.errors.map((i) => [i.code, i.line])).toEqual([['file_unreadable', 0]]);
  });

  it('refuses a directory', async () => {
    const r = await loadPolicyFile('/tmp');
    expect(r.kind === 'error' && r.errors[0]?.message).toBe('not a regular file');
  });
});

describe('loadPolicy never throws', () => {
  const example = readFileSync(DEFAULT_POLICY_PATH, 'utf8');
  const checkShape = (text: string): void => {
    const r = loadPolicy(text, F);
    if (r.kind === 'error') {
      expect(r.errors.length).toBeGreaterThan(0);
      for (const i of r.errors) {
        expect(i.line).toBeGreaterThanOrEqual(0);
        expect(i.line).toBeLessThanOrEqual(text.split('\n').length + 1);
        expect(i.message.length).toBeGreaterThan(0);
      }
    }
  };

  it('on random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), checkShape), { numRuns: 300 });
  });

  it('on truncated and corrupted copies of the default policy', () => {
    fc.assert(
      fc.property(fc.nat(example.length), fc.nat(example.length), fc.string({ maxLength: 8 }), (cut, at, junk) => {
        checkShape(example.slice(0, cut));
        checkShape(example.slice(0, at) + junk + example.slice(at + junk.length));
      }),
      { numRuns: 300 },
    );
  });

  it('on random YAML-shaped data', () => {
    const value = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
    const tree = fc.dictionary(
      fc.constantFrom('interfaces', 'watch', 'rules', 'metrics', 'status', 'learn', 'x'),
      fc.oneof(value, fc.array(value, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 3 })),
    );
    fc.assert(fc.property(tree, (t) => checkShape(JSON.stringify(t))), { numRuns: 300 });
  });
});
