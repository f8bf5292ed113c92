/**
 * A policy in plain words, one line per fact, for `policy check` and the
 * daemon's start-up log: what is captured, which servers are watched, how load
 * is measured, and for each rule when it acts, on whom, and when it lets go.
 */
import { formatAddress } from './address.js';
import type { Address } from './address.js';
import type { Policy, ProtocolName, Rule, WatchEntry } from './types.js';
import { PROTOCOL_NAMES } from './types.js';
import { formatDuration, formatSize, trimNumber } from './units.js';

const PROTOCOL_WORDS: Record<ProtocolName, { name: string; transport: string }> = {
  opennap: { name: 'OpenNap', transport: 'TCP' },
  dht: { name: 'DHT', transport: 'UDP' },
  grid: { name: 'grid', transport: 'TCP' },
};

export function describePolicy(policy: Policy): string {
  const lines: string[] = [];
  const ifaces = policy.interfaces.includes('any') ? 'all interfaces' : `interface${policy.interfaces.length > 1 ? 's' : ''} ${policy.interfaces.join(', ')}`;
  lines.push(
    `Capture on ${ifaces}, keeping up to ${policy.capture.snaplen} bytes per packet, with a ${formatSize(policy.capture.bufferBytes)} buffer.`,
  );

  for (const p of PROTOCOL_NAMES) lines.push(protocolLine(policy, p));
  for (const w of policy.watch) lines.push(watchLine(w));

  const m = policy.metrics;
  lines.push(
    `Every ${formatDuration(m.tickMs)}, compute per server the response time (first response minus query) and the query rate ` +
      `(${m.queriesPerSample} queries divided by the time they took), each averaged over ${formatDuration(m.windowMs)}.`,
  );

  if (policy.rules.length === 0) lines.push('No rules: servers are measured but never redirected.');
  for (const r of policy.rules) lines.push(...ruleLines(r, m.windowMs));

  lines.push(
    policy.dryRun
      ? 'Dry run: decisions are logged and shown in status only; no iptables rule or conntrack entry is changed.'
      : 'Decisions are applied: DNAT rules in our own iptables chain, and conntrack entries of moved clients deleted.',
  );
  const st = policy.status.listen;
  lines.push(st.kind === 'unix' ? `Status endpoint on unix socket ${st.path}.` : `Status endpoint on ${formatAddress(st.address)}.`);
  lines.push(`State database ${policy.database.path}, keeping ${formatDuration(policy.database.retentionMs)} of history, written ${policy.database.writer === 'thread' ? 'on its own thread' : 'on the capture thread'}.`);
  return lines.join('\n');
}

function watchLine(w: WatchEntry): string {
  const name = PROTOCOL_WORDS[w.protocol].name;
  const where = w.address.prefix === undefined ? `the ${name} server at ${w.address.ip}` : `${name} servers in ${formatAddress(w.address)}`;
  const on = w.port === undefined ? ` on the ${name} ports` : ` on port ${w.port}`;
  if (w.address.prefix === undefined && w.port !== undefined) {
    return `Watch the ${name} server at ${formatAddress({ ...w.address, port: w.port })}.`;
  }
  return `Watch ${where}${on}.`;
}

function protocolLine(policy: Policy, p: ProtocolName): string {
  const { name, transport } = PROTOCOL_WORDS[p];
  const s = policy.protocols[p];
  if (!s.enabled) return `${name[0]?.toUpperCase() ?? ''}${name.slice(1)} analysis is off.`;
  const learn = policy.learn ? '; learn servers on other ports by probing' : '';
  if (s.ports.length === 0) {
    return policy.learn
      ? `Watch ${name} servers found by probing (no fixed port).`
      : `Watch ${name} servers only where listed under watch (no fixed port, no probing).`;
  }
  const plural = s.ports.length > 1 ? 's' : '';
  return `Watch ${name} servers on ${transport} port${plural} ${s.ports.join(', ')}${learn}.`;
}

function ruleLines(r: Rule, windowMs: number): string[] {
  const window = formatDuration(windowMs);
  const qr = (v: number | undefined): string => `${trimNumber(v ?? 0)} queries/s`;
  const rt = (v: number | undefined): string => `${trimNumber(v ?? 0)} ms`;
  let trigger: string;
  let release: string;
  if (r.metric === 'query-rate') {
    trigger = `a server's query rate averaged over ${window} stays above ${qr(r.high.queryRate)}`;
    release = `below ${qr(r.low.queryRate)}`;
  } else if (r.metric === 'response-time') {
    trigger = `a server's response time averaged over ${window} stays above ${rt(r.high.responseTimeMs)}`;
    release = `below ${rt(r.low.responseTimeMs)}`;
  } else {
    trigger =
      `a server's query rate stays above ${qr(r.high.queryRate)} or its response time above ` +
      `${rt(r.high.responseTimeMs)} (averaged over ${window})`;
    release = `below both ${qr(r.low.queryRate)} and ${rt(r.low.responseTimeMs)}`;
  }
  const a = r.action;
  const target = a.type === 'cache-proxy' ? 'a cache proxy' : 'a load balancer';
  const spread =
    a.type === 'load-balance'
      ? a.backends.length > 0
        ? ` that spreads them over ${a.backends.map(formatAddress).join(', ')}`
        : ' that spreads them over the other watched servers of the same protocol'
      : '';
  const onRelease =
    a.onRelease === 'drain'
      ? 'clients already moved stay until they disconnect'
      : 'connections of moved clients are reset so they reconnect to the server';
  const lines = [
    `Rule '${r.name}' applies to ${serversWords(r)}.`,
    `Rule '${r.name}': when ${trigger} for ${formatDuration(r.holdBeforeActMs)}, redirect new connections of ` +
      `${clientsWords(r)} to ${target} on ${listenWords(a.listen)}${spread}; release when ${release} for ` +
      `${formatDuration(r.holdBeforeReleaseMs)} (${onRelease}); after each start or release, wait ` +
      `${formatDuration(r.cooldownMs)} before the next.`,
  ];
  if (a.type === 'cache-proxy') {
    lines.push(
      `Rule '${r.name}' cache: results kept ${formatDuration(a.cacheTtlMs)}, at most ${a.cacheEntries} entries and ` +
        `${formatSize(a.cacheBytes)}; the origin server is given ${formatDuration(a.upstreamTimeoutMs)} to answer.`,
    );
  } else {
    lines.push(`Rule '${r.name}' load balancer: a backend is given ${formatDuration(a.upstreamTimeoutMs)} to answer.`);
  }
  return lines;
}

function serversWords(r: Rule): string {
  const s = r.servers;
  const protos = s.protocols.length === 0 ? 'every watched server' : `watched ${s.protocols.map((p) => PROTOCOL_WORDS[p].name).join(' and ')} servers`;
  const where = s.addresses.length === 0 ? '' : ` in ${s.addresses.map(formatAddress).join(', ')}`;
  const ports = s.ports.length === 0 ? '' : ` on port${s.ports.length > 1 ? 's' : ''} ${s.ports.join(', ')}`;
  return `${protos}${where}${ports}`;
}

function clientsWords(r: Rule): string {
  const c = r.clients;
  const from =
    c.interfaces.length === 0
      ? 'clients arriving on any interface other than the server\'s'
      : `clients arriving on ${c.interfaces.join(', ')}`;
  const inNets = c.addresses.length === 0 ? '' : ` from ${c.addresses.map(formatAddress).join(', ')}`;
  const except = c.except.length === 0 ? '' : ` except ${c.except.map(formatAddress).join(', ')}`;
  return `${from}${inNets}${except}`;
}

function listenWords(a: Address & { port: number }): string {
  const anyHost = a.ip === '0.0.0.0' || a.ip === '::';
  if (a.port === 0) return anyHost ? 'a free port of the router' : `a free port of ${a.ip}`;
  return formatAddress(a);
}
