/**
 * Turns ajv's errors into policy problems in plain words ("unknown field
 * "qeuryRate"; did you mean "queryRate"?", "expected an integer from 1 to
 * 65535, got 70000"). Locations are added by the loader; this file is pure.
 */
import type { ErrorObject } from 'ajv';
import type { PolicyIssueCode } from './errors.js';
import { pointerToPath } from './locate.js';
import type { PathSegment } from './locate.js';
import { FORMATS } from './schema.js';
import { describeValue } from './units.js';

/** A problem before it is placed in the text: `key` marks an unknown field (its key is the place). */
export interface Problem {
  path: PathSegment[];
  key?: string;
  code: PolicyIssueCode;
  message: string;
}

export function problemsFromSchemaErrors(errors: readonly ErrorObject[]): Problem[] {
  const out: Problem[] = [];
  for (const e of errors) {
    const p = problemFromSchemaError(e);
    // One fault can fail several keywords at the same place; show each message once.
    if (!out.some((q) => samePath(q.path, p.path) && q.message === p.message)) out.push(p);
  }
  return out;
}

function problemFromSchemaError(e: ErrorObject): Problem {
  const path = pointerToPath(e.instancePath);
  const schema = (e.parentSchema ?? {}) as Record<string, unknown>;
  const got = describeValue(e.data);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const allowed = Object.keys((schema['properties'] ?? {}) as Record<string, unknown>);
      const guess = closest(key, allowed);
      const hint = guess === undefined ? '' : `; did you mean "${guess}"?`;
      return { path: [...path, key], key, code: 'unknown_field', message: `unknown field "${key}"${hint} (allowed here: ${allowed.join(', ')})` };
    }
    case 'required': {
      const missing = String(params['missingProperty']);
      return { path: [...path, missing], code: 'missing_field', message: 'required field is missing' };
    }
    case 'type': {
      const format = typeof schema['format'] === 'string' ? FORMATS[schema['format']] : undefined;
      const expected = format?.expected ?? typeWords(params['type']);
      return { path, code: 'wrong_type', message: `expected ${expected}, got ${got}` };
    }
    case 'format': {
      const format = FORMATS[String(params['format'])];
      const reason = format?.check(String(e.data)) ?? `expected format ${String(params['format'])}`;
      return { path, code: format?.code ?? 'bad_value', message: reason };
    }
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map(String);
      const guess = typeof e.data === 'string' ? closest(e.data, allowed) : undefined;
      const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
      return { path, code: 'bad_value', message: `expected one of ${allowed.join(', ')}, got ${got}${hint}` };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, code: 'bad_value', message: `expected ${rangeWords(schema)}, got ${got}` };
    case 'maxItems':
      return { path, code: 'bad_value', message: `expected at most ${String(params['limit'])} items, got ${listLength(e.data)}` };
    case 'minItems':
      return { path, code: 'bad_value', message: `expected at least ${String(params['limit'])} item(s), got ${listLength(e.data)}` };
    case 'maxLength':
      return { path, code: 'bad_value', message: `expected at most ${String(params['limit'])} characters, got ${got}` };
    case 'pattern': {
      const words = typeof schema['description'] === 'string' ? schema['description'] : `text matching ${String(params['pattern'])}`;
      return { path, code: 'bad_value', message: `expected ${words}, got ${got}` };
    }
    default:
      return { path, code: 'bad_value', message: `${e.message ?? 'is invalid'}, got ${got}` };
  }
}

function typeWords(t: unknown): string {
  const names = Array.isArray(t) ? t.map(String) : String(t).split(',');
  const words: Record<string, string> = {
    object: 'a mapping', array: 'a list', string: 'text', number: 'a number', integer: 'a whole number',
    boolean: 'true or false', null: 'nothing',
  };
  return names.map((n) => words[n] ?? n).join(' or ');
}

function rangeWords(schema: Record<string, unknown>): string {
  const what = schema['type'] === 'integer' ? 'a whole number' : 'a number';
  const lo = schema['minimum'] ?? schema['exclusiveMinimum'];
  const hi = schema['maximum'] ?? schema['exclusiveMaximum'];
  const loWord = schema['exclusiveMinimum'] !== undefined ? `greater than ${String(lo)}` : `at least ${String(lo)}`;
  if (lo !== undefined && hi !== undefined && schema['exclusiveMinimum'] === undefined) return `${what} from ${String(lo)} to ${String(hi)}`;
  if (lo !== undefined && hi !== undefined) return `${what} ${loWord} and at most ${String(hi)}`;
  if (lo !== undefined) return `${what} ${loWord}`;
  return `${what} at most ${String(hi)}`;
}

function listLength(v: unknown): string {
  return Array.isArray(v) ? String(v.length) : describeValue(v);
}

function samePath(a: readonly PathSegment[], b: readonly PathSegment[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** The allowed word nearest to a typo (edit distance at most a third of its length), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  // Optimal string alignment: a swap of two letters ("qeury") counts as one edit.
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      const row = d[i];
      if (row !== undefined) row[j] = v;
    }
  }
  return at(a.length, b.length);
}
