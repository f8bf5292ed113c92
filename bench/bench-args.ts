/**
 * Command-line options of the benchmark scripts, read with Node's own
 * `util.parseArgs` (unknown options are an error); numbers are checked here.
 * Also how repeated runs are summed up.
 */
import { parseArgs } from 'node:util';

export function readOptions<K extends string>(argv: readonly string[], names: Record<K, 'string' | 'boolean'>): Partial<Record<K, string | boolean>> {
  const options = Object.fromEntries(Object.entries(names).map(([k, type]) => [k, { type }])) as Record<K, { type: 'string' | 'boolean' }>;
  return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Partial<Record<K, string | boolean>>;
}

export function positiveInt(name: string, value: string | boolean | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a positive integer, got "${String(value)}"`);
  return n;
}

/** The run with the median throughput (of an even count, the upper of the middle two). */
export function medianRun<T extends { packetsPerS: number }>(runs: readonly T[]): T {
  if (runs.length === 0) throw new Error('no runs');
  const sorted = [...runs].sort((a, b) => a.packetsPerS - b.packetsPerS);
  return sorted[sorted.length >> 1]!;
}
