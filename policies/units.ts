/**
 * Durations and sizes as written in a policy ("500ms", "10s", "64MB", or plain
 * numbers in ms / bytes) and back to words. Pure: strings in, result values out.
 */
import { MAX_DURATION_MS, MAX_SIZE_BYTES } from './limits.js';

export type ParseResult<T> = { kind: 'ok'; value: T } | { kind: 'error'; reason: string };

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

// Sizes are binary (KB = KiB = 1024) because they size buffers and caches, where powers of two are the norm.
const SIZE_UNITS_BYTES: Readonly<Record<string, number>> = {
  b: 1,
  k: 1024, kb: 1024, kib: 1024,
  m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
};

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

export const DURATION_EXPECTED = 'a duration such as "500ms", "10s", "5m", "1h" or a number of milliseconds';
export const SIZE_EXPECTED = 'a size such as "512KB", "64MB", "1GB" or a number of bytes';

/** Parses a duration to milliseconds. Numbers are milliseconds. */
export function parseDuration(input: unknown): ParseResult<number> {
  let ms: number;
  if (typeof input === 'number') {
    ms = input;
  } else if (typeof input === 'string') {
    const m = DURATION_RE.exec(input.trim());
    const unit = m?.[2];
    if (m === null || m[1] === undefined || unit === undefined) {
      return { kind: 'error', reason: `expected ${DURATION_EXPECTED}, got ${JSON.stringify(input)}` };
    }
    ms = Number(m[1]) * (DURATION_UNITS_MS[unit] ?? Number.NaN);
  } else {
    return { kind: 'error', reason: `expected ${DURATION_EXPECTED}, got ${describeValue(input)}` };
  }
  if (!Number.isFinite(ms) || ms < 0) {
    return { kind: 'error', reason: `expected a duration of 0 or more, got ${JSON.stringify(input)}` };
  }
  if (ms > MAX_DURATION_MS) {
    return { kind: 'error', reason: `expected a duration of at most ${formatDuration(MAX_DURATION_MS)}, got ${JSON.stringify(input)}` };
  }
  return { kind: 'ok', value: Math.round(ms * 1000) / 1000 };
}

/** Parses a size to whole bytes. Numbers are bytes. */
export function parseSize(input: unknown): ParseResult<number> {
  let bytes: number;
  if (typeof input === 'number') {
    bytes = input;
  } else if (typeof input === 'string') {
    const m = SIZE_RE.exec(input.trim());
    const unit = (m?.[2] ?? '').toLowerCase();
    const factor = unit === '' ? 1 : SIZE_UNITS_BYTES[unit];
    if (m === null || m[1] === undefined || factor === undefined) {
      return { kind: 'error', reason: `expected ${SIZE_EXPECTED}, got ${JSON.stringify(input)}` };
    }
    bytes = Number(m[1]) * factor;
  } else {
    return { kind: 'error', reason: `expected ${SIZE_EXPECTED}, got ${describeValue(input)}` };
  }
  if (!Number.isFinite(bytes) || bytes < 0 || !Number.isInteger(bytes)) {
    return { kind: 'error', reason: `expected a whole number of bytes, 0 or more, got ${JSON.stringify(input)}` };
  }
  if (bytes > MAX_SIZE_BYTES) {
    return { kind: 'error', reason: `expected a size of at most ${formatSize(MAX_SIZE_BYTES)}, got ${JSON.stringify(input)}` };
  }
  return { kind: 'ok', value: bytes };
}

/** "500 ms", "1 s", "1.5 s", "5 min", "2 h": for descriptions and reasons. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${trimNumber(ms)} ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${trimNumber(ms / 1000)} s`;
  if (ms < 3_600_000 || ms % 3_600_000 !== 0) return `${trimNumber(ms / 60_000)} min`;
  return `${trimNumber(ms / 3_600_000)} h`;
}

/** "512 B", "64 MiB", "1.5 GiB". */
export function formatSize(bytes: number): string {
  const units: Array<[string, number]> = [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]];
  for (const [name, factor] of units) {
    if (bytes >= factor) return `${trimNumber(bytes / factor)} ${name}`;
  }
  return `${bytes} B`;
}

/** At most three decimals, no trailing zeros: 1.5, 10, 0.333. */
export function trimNumber(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

/** How a YAML value reads in an error message: `"abc"` for strings, `a list` for arrays, and so on. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' && !Number.isFinite(v)) return `a non-finite number (${String(v)})`;
  return String(v);
}
