/**
 * From schema-valid plain data to a `Policy`: fills defaults, converts
 * durations/sizes/addresses, and checks what a JSON Schema cannot say (low
 * below high, thresholds the metric needs, contradicting fields). Pure.
 */
import { parseAddress } from './address.js';
import type { Address } from './address.js';
import { DEFAULTS } from './defaults.js';
import { SchemaDriftError } from './errors.js';
import type { PathSegment } from './locate.js';
import { formatPath } from './locate.js';
import type { Problem } from './schema-issues.js';
import { PROTOCOL_NAMES } from './types.js';
import type {
  ActionType, MetricName, Policy, ProtocolName, ProtocolSettings, ReleaseMode, Rule, StatusListen, Thresholds, WatchEntry,
} from './types.js';
import { parseDuration, parseSize } from './units.js';

type Dur = string | number;

/** The file's shape once the schema accepted it (every field optional except what the schema requires). */
export interface RawPolicy {
  interfaces?: string[];
  capture?: { snaplen?: number; bufferMB?: number };
  watch?: Array<{ address: string; port?: number; protocol: ProtocolName }>;
  learn?: boolean;
  protocols?: Partial<Record<ProtocolName, { enabled?: boolean; ports?: number[] }>>;
  metrics?: { window?: Dur; queriesPerSample?: number; tick?: Dur };
  rules?: RawRule[];
  dryRun?: boolean;
  status?: { listen?: string };
  database?: { path?: string; retention?: Dur; writer?: 'thread' | 'inline' };
}

interface RawRule {
  name: string;
  servers?: { addresses?: string[]; ports?: number[]; protocols?: ProtocolName[] };
  metric: MetricName;
  high: Thresholds;
  low: Thresholds;
  holdBeforeAct?: Dur;
  holdBeforeRelease?: Dur;
  cooldown?: Dur;
  clients?: { interfaces?: string[]; addresses?: string[]; except?: string[] };
  action?: {
    type?: ActionType;
    listen?: string;
    backends?: string[];
    cacheTtl?: Dur;
    cacheEntries?: number;
    cacheBytes?: Dur;
    onRelease?: ReleaseMode;
    upstreamTimeout?: Dur;
  };
}

const THRESHOLD_FIELDS: Record<MetricName, Array<keyof Thresholds>> = {
  'response-time': ['responseTimeMs'],
  'query-rate': ['queryRate'],
  both: ['responseTimeMs', 'queryRate'],
};

const CACHE_ONLY_FIELDS = ['cacheTtl', 'cacheEntries', 'cacheBytes'] as const;

export type BuildResult = { kind: 'ok'; policy: Policy } | { kind: 'error'; problems: Problem[] };

export function buildPolicy(raw: RawPolicy, source: string): BuildResult {
  const problems: Problem[] = [];
  const problem = (path: PathSegment[], code: Problem['code'], message: string): void => {
    problems.push({ path, code, message });
  };

  const interfaces = raw.interfaces ?? [...DEFAULTS.interfaces];
  if (interfaces.includes('any') && interfaces.length > 1) {
    problem(['interfaces'], 'conflict', '"any" already captures on every interface; list either "any" or named interfaces');
  }

  const protocols = {} as Record<ProtocolName, ProtocolSettings>;
  for (const name of PROTOCOL_NAMES) {
    const p = raw.protocols?.[name];
    protocols[name] = { enabled: p?.enabled ?? true, ports: [...new Set(p?.ports ?? DEFAULTS.protocolPorts[name])] };
  }
  const disabled = (p: ProtocolName): boolean => !protocols[p].enabled;

  const watch: WatchEntry[] = (raw.watch ?? []).map((w, i) => {
    const address = addr(w.address, 'watch');
    if (w.port !== undefined && address.port !== undefined && w.port !== address.port) {
      problem(['watch', i, 'port'], 'conflict', `port ${w.port} contradicts the port in address "${w.address}"`);
    }
    if (disabled(w.protocol)) {
      problem(['watch', i, 'protocol'], 'conflict', `protocol ${w.protocol} is switched off (protocols.${w.protocol}.enabled: false)`);
    }
    const port = w.port ?? address.port;
    return port === undefined ? { address, protocol: w.protocol } : { address, port, protocol: w.protocol };
  });

  const metrics = {
    windowMs: dur(raw.metrics?.window ?? DEFAULTS.metricsWindow),
    queriesPerSample: raw.metrics?.queriesPerSample ?? DEFAULTS.queriesPerSample,
    tickMs: dur(raw.metrics?.tick ?? DEFAULTS.tick),
  };
  if (metrics.windowMs <= 0) problem(['metrics', 'window'], 'bad_value', 'expected a window longer than 0');
  if (metrics.tickMs <= 0) problem(['metrics', 'tick'], 'bad_value', 'expected a tick longer than 0');
  else if (metrics.tickMs > metrics.windowMs && metrics.windowMs > 0) {
    problem(['metrics', 'tick'], 'bad_value', `expected at most metrics.window (${metrics.windowMs} ms), got ${metrics.tickMs} ms`);
  }

  const rules = (raw.rules ?? []).map((r, i) => buildRule(r, i, problem, disabled));
  rules.forEach((r, i) => {
    const first = rules.findIndex((q) => q.name === r.name);
    if (first < i) problem(['rules', i, 'name'], 'conflict', `rule name "${r.name}" is already used by rules[${first}]`);
  });

  const listenText = raw.status?.listen ?? DEFAULTS.statusListen;
  const statusListen: StatusListen = listenText.startsWith('unix:')
    ? { kind: 'unix', path: listenText.slice('unix:'.length) }
    : { kind: 'tcp', address: withPort(addr(listenText, 'endpoint')) };

  if (problems.length > 0) return { kind: 'error', problems };
  return {
    kind: 'ok',
    policy: {
      source,
      interfaces,
      capture: {
        snaplen: raw.capture?.snaplen ?? DEFAULTS.snaplen,
        bufferBytes: (raw.capture?.bufferMB ?? DEFAULTS.captureBufferMB) * 1024 * 1024,
      },
      watch,
      learn: raw.learn ?? DEFAULTS.learn,
      protocols,
      metrics,
      rules,
      dryRun: raw.dryRun ?? DEFAULTS.dryRun,
      status: { listen: statusListen },
      database: {
        path: raw.database?.path ?? DEFAULTS.databasePath,
        retentionMs: dur(raw.database?.retention ?? DEFAULTS.retention),
        writer: raw.database?.writer ?? DEFAULTS.databaseWriter,
      },
    },
  };
}

function buildRule(
  r: RawRule,
  i: number,
  problem: (path: PathSegment[], code: Problem['code'], message: string) => void,
  disabled: (p: ProtocolName) => boolean,
): Rule {
  const at = (...rest: PathSegment[]): PathSegment[] => ['rules', i, ...rest];
  const needed = THRESHOLD_FIELDS[r.metric];
  for (const side of ['high', 'low'] as const) {
    for (const field of ['responseTimeMs', 'queryRate'] as const) {
      const present = r[side][field] !== undefined;
      if (needed.includes(field) && !present) {
        problem(at(side, field), 'threshold_missing', `required when metric is ${r.metric}`);
      } else if (!needed.includes(field) && present) {
        problem(at(side, field), 'threshold_unused', `not read when metric is ${r.metric}; remove it or use metric: both`);
      }
    }
  }
  for (const field of needed) {
    const hi = r.high[field];
    const lo = r.low[field];
    if (hi !== undefined && lo !== undefined && !(hi > lo)) {
      problem(at('high', field), 'threshold_order', `expected a number greater than ${formatPath(at('low', field))} (${lo}), got ${hi}`);
    }
  }
  (r.servers?.protocols ?? []).forEach((p, j) => {
    if (disabled(p)) problem(at('servers', 'protocols', j), 'conflict', `protocol ${p} is switched off (protocols.${p}.enabled: false)`);
  });

  const a = r.action ?? {};
  const type = a.type ?? 'cache-proxy';
  if (type === 'load-balance') {
    for (const f of CACHE_ONLY_FIELDS) {
      if (a[f] !== undefined) problem(at('action', f), 'conflict', 'only used by action type cache-proxy');
    }
  } else if (a.backends !== undefined) {
    problem(at('action', 'backends'), 'conflict', 'only used by action type load-balance');
  }

  return {
    name: r.name,
    servers: {
      addresses: (r.servers?.addresses ?? []).map((s) => addr(s, 'cidr')),
      ports: r.servers?.ports ?? [],
      protocols: r.servers?.protocols ?? [],
    },
    metric: r.metric,
    high: { ...r.high },
    low: { ...r.low },
    holdBeforeActMs: dur(r.holdBeforeAct ?? DEFAULTS.holdBeforeAct),
    holdBeforeReleaseMs: dur(r.holdBeforeRelease ?? DEFAULTS.holdBeforeRelease),
    cooldownMs: dur(r.cooldown ?? DEFAULTS.cooldown),
    clients: {
      interfaces: r.clients?.interfaces ?? [],
      addresses: (r.clients?.addresses ?? []).map((s) => addr(s, 'cidr')),
      except: (r.clients?.except ?? []).map((s) => addr(s, 'cidr')),
    },
    action: {
      type,
      listen: withPort(addr(a.listen ?? DEFAULTS.actionListen, 'listen')),
      backends: (a.backends ?? []).map((s) => withPort(addr(s, 'endpoint'))),
      cacheTtlMs: dur(a.cacheTtl ?? DEFAULTS.cacheTtl),
      cacheEntries: a.cacheEntries ?? DEFAULTS.cacheEntries,
      cacheBytes: size(a.cacheBytes ?? DEFAULTS.cacheBytes),
      onRelease: a.onRelease ?? DEFAULTS.onRelease,
      upstreamTimeoutMs: dur(a.upstreamTimeout ?? DEFAULTS.upstreamTimeout),
    },
  };
}

// The schema's formats already ran these parsers on the same values, so a failure here is a bug in
// this module, not bad input: it is reported loudly rather than turned into a made-up value.
const FORMS = {
  watch: { port: 'optional', prefix: true, portZero: false },
  cidr: { port: 'forbidden', prefix: true, portZero: false },
  listen: { port: 'optional', prefix: false, portZero: true },
  endpoint: { port: 'required', prefix: false, portZero: false },
} as const;

function addr(text: string, form: keyof typeof FORMS): Address {
  const r = parseAddress(text, FORMS[form]);
  if (r.kind === 'error') throw new SchemaDriftError(r.reason);
  return r.value;
}

function withPort(a: Address): Address & { port: number } {
  return { ...a, port: a.port ?? 0 };
}

function dur(v: Dur): number {
  const r = parseDuration(v);
  if (r.kind === 'error') throw new SchemaDriftError(r.reason);
  return r.value;
}

function size(v: Dur): number {
  const r = parseSize(v);
  if (r.kind === 'error') throw new SchemaDriftError(r.reason);
  return r.value;
}
