/**
 * Reading the daemon's status document (`GET /status` or `--status-file`,
 * shape agreed in the experiment's brief) as far as the experiment needs it:
 * when the router turned active, the timeline of its decisions, and the
 * proxy's search counter. Pure and tolerant: a field that is missing or of
 * the wrong type is left out and named in `problems`, never thrown.
 * Times may be ms since the epoch or ISO-8601 text; both become epoch ms.
 */

/** The timeline kinds the analysis reads; the daemon has more (decision, service_failed, …), kept as they come. */
export const TIMELINE_KINDS = ['crossed', 'service_started', 'rules_applied', 'flows_reset', 'released', 'withdrawn'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number] | (string & {});

export interface TimelineEntry {
  ts: number;
  server: string;
  kind: TimelineKind;
  detail: string;
}

export interface ServiceSnapshot {
  id: string;
  type: string;
  origin: string;
  startedAt: number | null;
  searches: number | null;
  sessions: number | null;
  forwards: number | null;
}

export interface DaemonStatus {
  startedAt: number | null;
  activeAt: number | null;
  timeline: TimelineEntry[];
  services: ServiceSnapshot[];
  redirects: number;
  problems: string[];
}

/** Epoch ms from a number (taken as ms) or an ISO-8601 string; null otherwise. */
export function toEpochMs(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === 'string' && v.length > 0) {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

function isKind(v: unknown): v is TimelineKind {
  return typeof v === 'string' && v.length > 0;
}

/** Parses status JSON text; `null` status when the text is not a JSON object at all. */
export function parseDaemonStatus(text: string): { kind: 'ok'; status: DaemonStatus } | { kind: 'error'; message: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: 'error', message: 'status is not JSON' };
  }
  const o = obj(v);
  if (o === null) return { kind: 'error', message: 'status is not a JSON object' };
  const problems: string[] = [];

  const timeline: TimelineEntry[] = [];
  if (Array.isArray(o.timeline)) {
    o.timeline.forEach((e, i) => {
      const t = obj(e);
      const ts = toEpochMs(t?.ts);
      if (t === null || ts === null || !isKind(t.kind)) {
        problems.push(`timeline[${i}] has no valid ts/kind`);
        return;
      }
      timeline.push({ ts, server: str(t.server), kind: t.kind, detail: typeof t.detail === 'string' ? t.detail : JSON.stringify(t.detail ?? '') });
    });
  } else if (o.timeline !== undefined) problems.push('timeline is not an array');
  timeline.sort((a, b) => a.ts - b.ts);

  const services: ServiceSnapshot[] = [];
  if (Array.isArray(o.services)) {
    o.services.forEach((e, i) => {
      const s = obj(e);
      if (s === null) {
        problems.push(`services[${i}] is not an object`);
        return;
      }
      const stats = obj(s.stats);
      services.push({
        id: str(s.id),
        type: str(s.type),
        origin: str(s.origin),
        startedAt: toEpochMs(s.startedAt),
        searches: count(stats?.searches),
        sessions: count(stats?.sessions),
        forwards: count(stats?.forwards),
      });
    });
  } else if (o.services !== undefined) problems.push('services is not an array');

  return {
    kind: 'ok',
    status: {
      startedAt: toEpochMs(o.startedAt),
      activeAt: toEpochMs(o.activeAt),
      timeline,
      services,
      redirects: Array.isArray(o.redirects) ? o.redirects.length : 0,
      problems,
    },
  };
}

/** True when a server field (`ip`, `ip:port`, or empty = unnamed) names `origin` (an ip). */
export function sameServer(field: string, origin: string): boolean {
  return field === '' || field === origin || field.startsWith(`${origin}:`);
}

/**
 * Merges timelines of successive status reads: the daemon may bound its
 * timeline and drop old entries, so entries seen once are kept (by ts, kind,
 * server and detail) and the union is returned sorted.
 */
export function mergeTimelines(a: readonly TimelineEntry[], b: readonly TimelineEntry[]): TimelineEntry[] {
  const seen = new Map<string, TimelineEntry>();
  for (const e of [...a, ...b]) seen.set(`${e.ts}|${e.kind}|${e.server}|${e.detail}`, e);
  return [...seen.values()].sort((x, y) => x.ts - y.ts);
}

/** Sum of the `searches` counters of the cache-proxy services that answer for `origin` (null: none running yet). */
export function proxySearches(status: DaemonStatus, origin: string): number | null {
  const mine = status.services.filter((s) => sameServer(s.origin, origin));
  const values = mine.map((s) => s.searches).filter((n): n is number => n !== null);
  return values.length === 0 ? null : values.reduce((x, y) => x + y, 0);
}
