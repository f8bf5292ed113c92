/**
 * Loading a policy: YAML text → located issues or a `Policy`. Parses with
 * `yaml` (LineCounter + node ranges, so every issue has a line and column),
 * validates with the JSON Schema, then converts and cross-checks (build.ts).
 * `loadPolicy` is pure and never throws; `loadPolicyFile` is the only I/O.
 */
import { readFile, stat } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { buildPolicy } from './build.js';
import type { RawPolicy } from './build.js';
import type { PolicyIssue } from './errors.js';
import { SchemaDriftError } from './errors.js';
import { MAX_POLICY_BYTES, MAX_REPORTED_ISSUES, MAX_YAML_ALIASES } from './limits.js';
import { formatPath, locate } from './locate.js';
import type { Problem } from './schema-issues.js';
import { problemsFromSchemaErrors } from './schema-issues.js';
import { validatePolicyData } from './schema.js';
import type { Policy } from './types.js';
import { describeValue } from './units.js';

export type LoadResult = { kind: 'ok'; policy: Policy } | { kind: 'error'; errors: PolicyIssue[] };

/** Parses and checks policy text; `fileName` only labels the issues and `Policy.source`. */
export function loadPolicy(text: string, fileName: string): LoadResult {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) {
    return fileIssue(fileName, 'file_too_large', `the file is larger than ${MAX_POLICY_BYTES} bytes; a policy is a few KiB`);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, keepSourceTokens: true, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // YAML's own message and place; later checks would only echo the same fault.
    return limit(
      fileName,
      doc.errors.map((e) => {
        const pos = lc.linePos(e.pos[0]);
        return { file: fileName, line: pos.line, column: pos.col, path: '', code: 'yaml_syntax', message: firstLine(e.message) };
      }),
    );
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    // yaml throws a ReferenceError when aliases expand past the limit (alias bombs).
    return fileIssue(fileName, 'yaml_alias_limit', `${errorText(err)} (limit ${MAX_YAML_ALIASES})`);
  }
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    const place = locate(doc, lc, []);
    return {
      kind: 'error',
      errors: [{ file: fileName, ...place, path: '', code: 'not_a_mapping', message: `expected a mapping of policy fields, got ${describeValue(data)}` }],
    };
  }

  const schemaErrors = validatePolicyData(data);
  if (schemaErrors.length > 0) return limit(fileName, place(doc, lc, fileName, problemsFromSchemaErrors(schemaErrors)));

  try {
    const built = buildPolicy(data as RawPolicy, fileName);
    if (built.kind === 'error') return limit(fileName, place(doc, lc, fileName, built.problems));
    return { kind: 'ok', policy: built.policy };
  } catch (err) {
    if (err instanceof SchemaDriftError) return fileIssue(fileName, 'internal_error', err.message);
    throw err;
  }
}

/** Reads a policy file (bounded by MAX_POLICY_BYTES) and loads it; unreadable files become issues, not throws. */
export async function loadPolicyFile(path: string): Promise<LoadResult> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return fileIssue(path, 'file_unreadable', 'not a regular file');
    if (st.size > MAX_POLICY_BYTES) {
      return fileIssue(path, 'file_too_large', `the file is ${st.size} bytes, more than ${MAX_POLICY_BYTES}; a policy is a few KiB`);
    }
    return loadPolicy(await readFile(path, 'utf8'), path);
  } catch (err) {
    return fileIssue(path, 'file_unreadable', errorText(err));
  }
}

function place(doc: Document, lc: LineCounter, file: string, problems: readonly Problem[]): PolicyIssue[] {
  const issues = problems.map((p) => {
    const where = p.key === undefined ? locate(doc, lc, p.path) : locate(doc, lc, p.path.slice(0, -1), p.key);
    return { file, line: where.line, column: where.column, path: formatPath(p.path), code: p.code, message: p.message };
  });
  // In text order, so the list reads top to bottom like the file.
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}

function limit(file: string, issues: PolicyIssue[]): LoadResult {
  if (issues.length <= MAX_REPORTED_ISSUES) return { kind: 'error', errors: issues };
  const kept = issues.slice(0, MAX_REPORTED_ISSUES);
  kept.push({
    file, line: 0, column: 0, path: '', code: 'too_many_issues',
    message: `${issues.length - MAX_REPORTED_ISSUES} more issue(s) not listed (limit ${MAX_REPORTED_ISSUES})`,
  });
  return { kind: 'error', errors: kept };
}

function fileIssue(file: string, code: PolicyIssue['code'], message: string): LoadResult {
  return { kind: 'error', errors: [{ file, line: 0, column: 0, path: '', code, message }] };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
