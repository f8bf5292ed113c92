import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnalyzerEvent } from '../../analyzers/events.js';
import { MAX_KEYWORDS, MAX_KEYWORD_CHARS, boundKeywords, rowOpOf } from './row-ops.js';

const server = { ip: '10.0.0.1', port: 8888 };
const client = { ip: '10.0.0.2', port: 4000 };
const query: AnalyzerEvent = { kind: 'query', protocol: 'opennap', server, ts: 10, client, seq: 0, keywords: ['a'], maxResults: 5 };

describe('rowOpOf', () => {
  it('maps a query to a compact op that keeps the event\'s endpoint objects', () => {
    const r = rowOpOf(query);
    expect(r).toEqual({
      kind: 'ok',
      truncated: false,
      op: { op: 'query', protocol: 'opennap', server, ts: 10, client, seq: 0, keywords: '["a"]', maxResults: 5, firstResponseTs: null, doneTs: null, results: null },
    });
    expect(r.kind === 'ok' && r.op.op === 'query' && r.op.server === server && r.op.client === client).toBe(true);
  });

  it('gives a query and its end the same keyword JSON, and sees a changed array', () => {
    const keywords = ['blue', 'moon'];
    const a = rowOpOf({ ...query, keywords });
    const b = rowOpOf({ kind: 'query_done', protocol: 'opennap', server, ts: 20, client, seq: 0, queryTs: 10, results: 0, resultPayloads: [], keywords });
    expect(a.kind === 'ok' && a.op.op === 'query' ? a.op.keywords : '').toBe('["blue","moon"]');
    expect(b.kind === 'ok' && b.op.op === 'query_done' ? b.op.keywords : '').toBe('["blue","moon"]');
    keywords.push('x'.repeat(MAX_KEYWORD_CHARS + 1));
    const c = rowOpOf({ ...query, keywords });
    expect(c.kind === 'ok' && c.op.op === 'query' ? JSON.parse(c.op.keywords) : []).toHaveLength(3);
    expect(c.kind === 'ok' && c.truncated).toBe(true);
  });

  it('drops result payloads of query_done', () => {
    const r = rowOpOf({ kind: 'query_done', protocol: 'opennap', server, ts: 20, client, seq: 0, queryTs: 10, results: 1, resultPayloads: [Buffer.alloc(100)], keywords: [] });
    expect(r.kind).toBe('ok');
    expect(JSON.stringify(r)).not.toContain('resultPayloads');
  });

  it.each([
    { name: 'NaN ts', e: { ...query, ts: Number.NaN }, field: 'ts' },
    { name: 'port out of range', e: { ...query, server: { ip: '1.2.3.4', port: 70000 } }, field: 'server' },
    { name: 'empty client ip', e: { ...query, client: { ip: '', port: 1 } }, field: 'client' },
    { name: 'negative seq', e: { ...query, seq: -1 }, field: 'seq' },
    { name: 'fractional seq', e: { ...query, seq: 1.5 }, field: 'seq' },
    { name: 'empty protocol', e: { ...query, protocol: '' }, field: 'protocol' },
    { name: 'keywords not an array', e: { ...query, keywords: 'x' as unknown as string[] }, field: 'keywords' },
    { name: 'unknown kind', e: { ...query, kind: 'bogus' } as unknown as AnalyzerEvent, field: 'kind' },
  ])('rejects $name as state.invalid_event ($field)', ({ e, field }) => {
    expect(rowOpOf(e as AnalyzerEvent)).toEqual({ kind: 'error', event: 'state.invalid_event', field });
  });

  it('bounds keywords by count and length and says so', () => {
    const many = Array.from({ length: MAX_KEYWORDS + 5 }, () => 'x'.repeat(MAX_KEYWORD_CHARS + 1));
    const b = boundKeywords(many);
    expect(b.truncated).toBe(true);
    const kept = JSON.parse(b.json) as string[];
    expect(kept).toHaveLength(MAX_KEYWORDS);
    expect(kept[0]).toHaveLength(MAX_KEYWORD_CHARS);
    expect(boundKeywords(['a', 'b'])).toEqual({ json: '["a","b"]', truncated: false });
  });

  it('keeps keywords within the bounds exactly as the general rule would', () => {
    // The general rule, written out: strings only, the first MAX_KEYWORDS, each cut to MAX_KEYWORD_CHARS.
    const rule = (ks: readonly unknown[]) => {
      const strings = ks.filter((k): k is string => typeof k === 'string');
      const kept = strings.slice(0, MAX_KEYWORDS).map((k) => k.slice(0, MAX_KEYWORD_CHARS));
      const truncated = strings.length !== ks.length || strings.length > MAX_KEYWORDS || strings.some((k) => k.length > MAX_KEYWORD_CHARS);
      return { json: JSON.stringify(kept), truncated };
    };
    const keyword = fc.oneof(fc.string({ maxLength: MAX_KEYWORD_CHARS + 2 }), fc.constant('x'.repeat(MAX_KEYWORD_CHARS)), fc.anything());
    fc.assert(
      fc.property(fc.array(keyword, { maxLength: MAX_KEYWORDS + 3 }), (ks) => {
        expect(boundKeywords(ks)).toEqual(rule(ks));
      }),
      { numRuns: 500 },
    );
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [, 'a'];
    expect(boundKeywords(sparse)).toEqual(rule(sparse));
  });

  it('never throws on arbitrary objects', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        const r = rowOpOf(v as AnalyzerEvent);
        expect(['ok', 'error']).toContain(r.kind);
      }),
    );
  });
});
