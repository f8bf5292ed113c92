/**
 * Row ops as compact columns for the writer thread (writer-thread.ts): one
 * Float64Array of OP_SLOTS numbers per op (transferred, not copied) and the
 * batch's distinct strings once each (client ips, keyword JSON and the few
 * server ips repeat across a batch). One message per batch instead of a deep
 * clone of a thousand small objects. Pure; `null` travels as NaN (SQLite
 * stores a NaN REAL as NULL anyway) or as string index -1.
 */
import type { Endpoint } from '../../analyzers/analyzer.js';
import type { Learnt, RowOp } from './row-ops.js';

/** Numbers per op: kind, ts, and at most eleven fields (a query with its first response and end has the most). */
export const OP_SLOTS = 13;

export interface EncodedOps {
  n: number;
  nums: Float64Array;
  strs: string[];
}

const KINDS = ['server', 'query', 'first_response', 'query_done', 'session_open', 'session_close', 'session_update', 'metric_window'] as const;
const KIND_CODE: Record<RowOp['op'], number> = Object.fromEntries(KINDS.map((k, i) => [k, i])) as Record<RowOp['op'], number>;

const orNaN = (v: number | null): number => (v === null ? Number.NaN : v);
const orNull = (v: number | undefined): number | null => (v === undefined || Number.isNaN(v) ? null : v);

export function encodeOps(ops: readonly RowOp[]): EncodedOps {
  const nums = new Float64Array(ops.length * OP_SLOTS);
  const strs: string[] = [];
  const index = new Map<string, number>();
  const str = (s: string | null): number => {
    if (s === null) return -1;
    let i = index.get(s);
    if (i === undefined) {
      i = strs.push(s) - 1;
      index.set(s, i);
    }
    return i;
  };
  let o = 0;
  for (const op of ops) {
    nums[o] = KIND_CODE[op.op];
    nums[o + 1] = op.ts;
    if (op.op === 'metric_window') {
      nums[o + 2] = op.serverId;
      nums[o + 3] = op.windowMs;
      nums[o + 4] = orNaN(op.rtAvgMs);
      nums[o + 5] = orNaN(op.rtP50Ms);
      nums[o + 6] = orNaN(op.rtP99Ms);
      nums[o + 7] = orNaN(op.qrAvg);
      nums[o + 8] = op.queries;
      nums[o + 9] = op.answered;
    } else {
      nums[o + 2] = str(op.protocol);
      nums[o + 3] = str(op.server.ip);
      nums[o + 4] = op.server.port;
      if (op.op === 'server') nums[o + 5] = str(op.learnt);
      else {
        nums[o + 5] = str(op.client.ip);
        nums[o + 6] = op.client.port;
        switch (op.op) {
          case 'query':
            nums[o + 7] = op.seq;
            nums[o + 8] = str(op.keywords);
            nums[o + 9] = orNaN(op.maxResults);
            nums[o + 10] = orNaN(op.firstResponseTs);
            nums[o + 11] = orNaN(op.doneTs);
            nums[o + 12] = orNaN(op.results);
            break;
          case 'first_response':
            nums[o + 7] = op.seq;
            nums[o + 8] = op.queryTs;
            break;
          case 'query_done':
            nums[o + 7] = op.seq;
            nums[o + 8] = op.queryTs;
            nums[o + 9] = op.results;
            nums[o + 10] = str(op.keywords);
            break;
          case 'session_open':
          case 'session_update':
            nums[o + 7] = str(op.nick);
            nums[o + 8] = orNaN(op.files);
            nums[o + 9] = op.lastSeen;
            break;
          case 'session_close':
            break;
        }
      }
    }
    o += OP_SLOTS;
  }
  return { n: ops.length, nums, strs };
}

/** The ops back, with fresh endpoint objects; a malformed batch throws (it is our own data, not input). */
export function decodeOps(batch: EncodedOps): RowOp[] {
  const { nums, strs } = batch;
  const str = (v: number | undefined): string => {
    const s = v === undefined ? undefined : strs[v];
    if (s === undefined) throw new RangeError(`string index ${String(v)} out of range`);
    return s;
  };
  const num = (i: number): number => nums[i] ?? Number.NaN;
  const out: RowOp[] = [];
  for (let k = 0, o = 0; k < batch.n; k++, o += OP_SLOTS) {
    const kind = KINDS[num(o)];
    const ts = num(o + 1);
    if (kind === 'metric_window') {
      out.push({
        op: kind,
        serverId: num(o + 2),
        ts,
        windowMs: num(o + 3),
        rtAvgMs: orNull(nums[o + 4]),
        rtP50Ms: orNull(nums[o + 5]),
        rtP99Ms: orNull(nums[o + 6]),
        qrAvg: orNull(nums[o + 7]),
        queries: num(o + 8),
        answered: num(o + 9),
      });
      continue;
    }
    if (kind === undefined) throw new RangeError(`op kind ${num(o)} unknown`);
    const protocol = str(nums[o + 2]);
    const server: Endpoint = { ip: str(nums[o + 3]), port: num(o + 4) };
    if (kind === 'server') {
      const learnt = num(o + 5) < 0 ? null : (str(nums[o + 5]) as Learnt);
      out.push({ op: kind, protocol, server, ts, learnt });
      continue;
    }
    const client: Endpoint = { ip: str(nums[o + 5]), port: num(o + 6) };
    switch (kind) {
      case 'query':
        out.push({
          op: kind, protocol, server, ts, client, seq: num(o + 7), keywords: str(nums[o + 8]), maxResults: orNull(nums[o + 9]),
          firstResponseTs: orNull(nums[o + 10]), doneTs: orNull(nums[o + 11]), results: orNull(nums[o + 12]),
        });
        break;
      case 'first_response':
        out.push({ op: kind, protocol, server, ts, client, seq: num(o + 7), queryTs: num(o + 8) });
        break;
      case 'query_done':
        out.push({ op: kind, protocol, server, ts, client, seq: num(o + 7), queryTs: num(o + 8), results: num(o + 9), keywords: str(nums[o + 10]) });
        break;
      case 'session_open':
      case 'session_update':
        out.push({ op: kind, protocol, server, ts, client, nick: num(o + 7) < 0 ? null : str(nums[o + 7]), files: orNull(nums[o + 8]), lastSeen: num(o + 9) });
        break;
      case 'session_close':
        out.push({ op: kind, protocol, server, ts, client });
        break;
    }
  }
  return out;
}
