// describePolicy: plain-word lines for each fact, checked on small policies whose every value is known.
import { describe, expect, it } from 'vitest';
import { describePolicy } from './describe.js';
import { loadPolicy } from './load.js';
import type { Policy } from './types.js';

function policy(text: string): Policy {
  const r = loadPolicy(text, 'p.yaml');
  if (r.kind !== 'ok') throw new Error(JSON.stringify(r.errors));
  return r.policy;
}

describe('describePolicy', () => {
  it('says the brief\'s sentence for a query-rate cache-proxy rule', () => {
    const lines = describePolicy(
      policy(`
protocols: { dht: { enabled: false }, grid: { enabled: false } }
rules:
  - name: overload
    metric: query-rate
    high: { queryRate: 10 }
    low: { queryRate: 5 }
    clients: { addresses: [10.0.2.0/24] }
    action: { listen: "10.0.2.1:9888" }
`),
    ).split('\n');
    expect(lines).toContain('Watch OpenNap servers on TCP ports 8888, 7777; learn servers on other ports by probing.');
    expect(lines).toContain('DHT analysis is off.');
    expect(lines).toContain('Grid analysis is off.');
    expect(lines).toContain("Rule 'overload' applies to every watched server.");
    expect(lines).toContain(
      "Rule 'overload': when a server's query rate averaged over 10 s stays above 10 queries/s for 1 s, redirect new " +
        "connections of clients arriving on any interface other than the server's from 10.0.2.0/24 to a cache proxy on " +
        '10.0.2.1:9888; release when below 5 queries/s for 10 s (clients already moved stay until they disconnect); ' +
        'after each start or release, wait 30 s before the next.',
    );
    expect(lines).toContain(
      "Rule 'overload' cache: results kept 5 min, at most 10000 entries and 64 MiB; the origin server is given 3 s to answer.",
    );
    expect(lines).toContain('Status endpoint on 127.0.0.1:9900.');
    expect(lines).toContain('State database /var/lib/active-router/state.db, keeping 1 h of history, written on its own thread.');
  });

  it('describes capture, watch entries, metrics, dry run, no rules and a unix status socket', () => {
    const text = describePolicy(
      policy(`
interfaces: [eth-a, eth-b]
capture: { snaplen: 1500, bufferMB: 4 }
learn: false
watch:
  - { address: "[2001:db8::1]:8888", protocol: opennap }
  - { address: 10.9.0.0/16, protocol: dht }
metrics: { window: 30s, queriesPerSample: 20, tick: 1s }
dryRun: true
status: { listen: "unix:/run/ar.sock" }
database: { path: /tmp/x.db, retention: 90m, writer: inline }
`),
    );
    expect(text.split('\n')).toEqual([
      'Capture on interfaces eth-a, eth-b, keeping up to 1500 bytes per packet, with a 4 MiB buffer.',
      'Watch OpenNap servers on TCP ports 8888, 7777.',
      'Watch DHT servers on UDP port 6881.',
      'Watch grid servers only where listed under watch (no fixed port, no probing).',
      'Watch the OpenNap server at [2001:db8::1]:8888.',
      'Watch DHT servers in 10.9.0.0/16 on the DHT ports.',
      'Every 1 s, compute per server the response time (first response minus query) and the query rate (20 queries divided by the time they took), each averaged over 30 s.',
      'No rules: servers are measured but never redirected.',
      'Dry run: decisions are logged and shown in status only; no iptables rule or conntrack entry is changed.',
      'Status endpoint on unix socket /run/ar.sock.',
      'State database /tmp/x.db, keeping 90 min of history, written on the capture thread.',
    ]);
  });

  it('describes a both-metric load-balance rule with reset on release', () => {
    const text = describePolicy(
      policy(`
rules:
  - name: lb
    servers: { protocols: [opennap], ports: [8888] }
    metric: both
    high: { queryRate: 20, responseTimeMs: 500 }
    low: { queryRate: 10, responseTimeMs: 200 }
    cooldown: 1m
    clients: { interfaces: [eth-b], except: [10.0.0.0/8] }
    action: { type: load-balance, backends: ["10.1.0.2:8888"], onRelease: reset }
`),
    );
    expect(text).toContain("Rule 'lb' applies to watched OpenNap servers on port 8888.");
    expect(text).toContain(
      "when a server's query rate stays above 20 queries/s or its response time above 500 ms (averaged over 10 s) for 1 s, " +
        'redirect new connections of clients arriving on eth-b except 10.0.0.0/8 to a load balancer on a free port of the router ' +
        'that spreads them over 10.1.0.2:8888; release when below both 10 queries/s and 200 ms for 10 s ' +
        '(connections of moved clients are reset so they reconnect to the server); after each start or release, wait 1 min before the next.',
    );
  });
});
