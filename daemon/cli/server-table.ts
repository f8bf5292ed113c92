/**
 * The per-server table printed by `replay` and `servers` (and its JSON form):
 * protocol, clients, queries, answered, unanswered, RT_av/p50/p99 in ms,
 * QR_avg in queries/s, then the named counters.
 */
import type { ServerSummary } from '../state/index.js';

/** A server's row: its summary without the database's own bookkeeping. */
export type ServerRow = Omit<ServerSummary, 'serverId' | 'firstSeen' | 'lastSeen'>;

export function rowOf(s: ServerSummary): ServerRow {
  return {
    address: s.address, protocol: s.protocol, learnt: s.learnt, clients: s.clients, queries: s.queries,
    answered: s.answered, unanswered: s.unanswered, rtAvgMs: s.rtAvgMs, rtP50Ms: s.rtP50Ms, rtP99Ms: s.rtP99Ms, qrAvg: s.qrAvg,
  };
}

const num = (v: number | null, digits = 1): string => (v === null ? '-' : v.toFixed(digits));

export function formatServerTable(rows: readonly ServerRow[], counters: Record<string, number>): string {
  const header = ['SERVER', 'PROTOCOL', 'LEARNT', 'CLIENTS', 'QUERIES', 'ANSWERED', 'UNANSWERED', 'RT_AV_MS', 'RT_P50_MS', 'RT_P99_MS', 'QR_AVG'];
  const body = rows.map((r) => [
    r.address, r.protocol, r.learnt, String(r.clients), String(r.queries), String(r.answered), String(r.unanswered),
    num(r.rtAvgMs, 2), num(r.rtP50Ms, 2), num(r.rtP99Ms, 2), num(r.qrAvg, 2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), ...body.map(line)];
  if (rows.length === 0) out.push('(no servers seen)');
  const names = Object.keys(counters).filter((k) => counters[k] !== 0).sort();
  if (names.length > 0) {
    out.push('', 'counters:');
    for (const k of names) out.push(`  ${k} ${counters[k]}`);
  }
  return out.join('\n') + '\n';
}
