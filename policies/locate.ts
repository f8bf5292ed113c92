/**
 * Field paths and their places in the YAML text: `rules[0].high.queryRate` and
 * the line/column of the node (or, for an unknown field, of its key), using the
 * node ranges yaml keeps and a LineCounter. Pure.
 */
import { isMap, isNode, isPair, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node } from 'yaml';

export type PathSegment = string | number;

/** `rules[0].high.queryRate`; the empty path is the document itself. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** ajv's instancePath (`/rules/0/high`) to segments; array indexes become numbers. */
export function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

export interface Place {
  line: number;
  column: number;
}

/**
 * Where `path` is in the document. With `key`, the place of that key inside the
 * mapping at `path` (used for unknown fields). Falls back to the deepest node
 * that exists, then to 1:1, so every issue has a place.
 */
export function locate(doc: Document, lc: LineCounter, path: readonly PathSegment[], key?: string): Place {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const seg of path) {
    const next = child(node, seg);
    if (next === undefined) break;
    node = next.value;
    offset = rangeStart(next.value) ?? rangeStart(next.key) ?? offset;
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    const start = pair === undefined ? undefined : rangeStart(pair.key);
    if (start !== undefined) offset = start;
  }
  const pos = lc.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function child(node: unknown, seg: PathSegment): { key: unknown; value: unknown } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
    return pair === undefined ? undefined : { key: pair.key, value: pair.value };
  }
  if (isSeq(node) && typeof seg === 'number') {
    const item = node.items[seg];
    return item === undefined ? undefined : { key: undefined, value: item };
  }
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  return isNode(node) ? (node as Node).range?.[0] : undefined;
}
