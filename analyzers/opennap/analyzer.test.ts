import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AnalyzerContext, Direction } from '../analyzer.js';
import type { AnalyzerEvent } from '../events.js';
import { encodeFrame, encodeFrames } from '../../opennap/codec.js';
import { MessageType as T } from '../../opennap/message-types.js';
import { OpenNapAnalyzer, resultMatches } from './analyzer.js';
import { probeOpenNap } from './probe.js';
import { findFrameBoundary } from './resync.js';
import { CLIENT_TYPES } from '../../opennap/message-types.js';

const flow = { transport: 'tcp' as const, client: { ip: '10.0.2.8', port: 40000 }, server: { ip: '10.0.1.10', port: 8888 } };

function harness() {
  const events: AnalyzerEvent[] = [];
  const counters: Record<string, number> = {};
  const ctx: AnalyzerContext = {
    flow,
    learnt: 'port',
    emit: (e) => events.push(e),
    count: (name, n = 1) => {
      counters[name] = (counters[name] ?? 0) + n;
    },
  };
  return { analyzer: new OpenNapAnalyzer(ctx), events, counters };
}

const login = encodeFrame(T.Login, 'alice pw 6699 "nap v0.8" 3');
const ack = encodeFrame(T.LoginAck, 'anon@localhost');
const search = (kw: string) => encodeFrame(T.Search, `FILENAME CONTAINS "${kw}" MAX_RESULTS 100`);
const result = (name: string) => encodeFrame(T.SearchResult, `"${name}" 0123 1000 128 44100 60 bob 16777343 3`);
const end = encodeFrame(T.SearchEnd);

function kinds(events: AnalyzerEvent[]) {
  return events.map((e) => {
    switch (e.kind) {
      case 'query':
        return `query#${e.seq}@${e.ts}:${e.keywords.join('+')}`;
      case 'first_response':
        return `first#${e.seq}@${e.ts}(q@${e.queryTs})`;
      case 'query_done':
        return `done#${e.seq}@${e.ts}:${e.results}`;
      default:
        return e.kind;
    }
  });
}

describe('OpenNapAnalyzer', () => {
  it('matches responses to the oldest unanswered query, in order', () => {
    const { analyzer, events } = harness();
    analyzer.onData('toServer', login, 1);
    analyzer.onData('toClient', ack, 2);
    analyzer.onData('toServer', Buffer.concat([search('rock'), search('jazz')]), 10);
    analyzer.onData('toClient', Buffer.concat([result('rock a.mp3'), result('rock b.mp3')]), 15);
    analyzer.onData('toClient', end, 16);
    analyzer.onData('toClient', Buffer.concat([end]), 20);
    analyzer.onEnd(30, 'fin');
    expect(kinds(events)).toEqual([
      'session_open', 'login', 'server_seen',
      'query#0@10:rock', 'query#1@10:jazz',
      'first#0@15(q@10)', 'done#0@16:2',
      'first#1@20(q@10)', 'done#1@20:0',
      'session_close',
    ]);
    expect(analyzer.confirmed).toBe(true);
    const done = events.find((e) => e.kind === 'query_done');
    expect(done?.kind === 'query_done' && done.resultPayloads.map((b) => b.toString())).toEqual([
      '"rock a.mp3" 0123 1000 128 44100 60 bob 16777343 3',
      '"rock b.mp3" 0123 1000 128 44100 60 bob 16777343 3',
    ]);
  });

  it('keeps every result payload of a long answer intact, and a short one in a buffer at most twice its size', () => {
    const { analyzer, events } = harness();
    analyzer.onData('toServer', login, 1);
    analyzer.onData('toServer', Buffer.concat([search('rock'), search('jazz')]), 10);
    const names = Array.from({ length: 90 }, (_, i) => `rock ${String(i).padStart(3, '0')} ${'x'.repeat(40)}.mp3`);
    // One result per read: the capture's buffers are reused, so each must be copied out as it comes.
    for (const name of names) analyzer.onData('toClient', Buffer.from(result(name)), 15);
    analyzer.onData('toClient', Buffer.concat([end, result('jazz a.mp3'), end]), 16);
    const done = events.filter((e) => e.kind === 'query_done');
    const [long, short] = done.map((e) => (e.kind === 'query_done' ? e.resultPayloads : []));
    expect(long?.map((b) => b.toString('latin1').split('"')[1])).toEqual(names);
    expect(long!.reduce((n, b) => n + b.length, 0)).toBeGreaterThan(4096);
    expect(short?.map((b) => b.toString())).toEqual(['"jazz a.mp3" 0123 1000 128 44100 60 bob 16777343 3']);
    expect(short![0]!.buffer.byteLength).toBeLessThanOrEqual(2 * short![0]!.length);
  });

  it('counts shares per client', () => {
    const { analyzer, events } = harness();
    analyzer.onData('toServer', Buffer.concat([login, encodeFrames([
      { type: T.ShareFile, data: '"a.mp3" 00 1 128 44100 60' },
      { type: T.ShareFile, data: '"b.mp3" 00 1 128 44100 60' },
    ])]), 1);
    analyzer.onData('toServer', encodeFrame(T.RemoveFile, 'a.mp3'), 2);
    expect(events.filter((e) => e.kind === 'shares').map((e) => e.kind === 'shares' && e.files)).toEqual([2, 1]);
    // A removal split across segments is delivered without its bytes (it needs none): still counted.
    const split = encodeFrame(T.RemoveFile, 'b.mp3');
    analyzer.onData('toServer', split.subarray(0, 6), 3);
    analyzer.onData('toServer', split.subarray(6), 4);
    expect(events.filter((e) => e.kind === 'shares').map((e) => e.kind === 'shares' && e.files)).toEqual([2, 1, 0]);
  });

  it('ignores responses to queries it did not see when started mid-session', () => {
    const { analyzer, events, counters } = harness();
    // The tail of an earlier answer, then a query we see, then its answer.
    const tail = Buffer.concat([result('old song.mp3').subarray(7), result('old other.mp3'), end]);
    analyzer.onData('toServer', search('rock'), 5);
    analyzer.onData('toClient', tail, 6);
    analyzer.onData('toClient', Buffer.concat([result('rock c.mp3'), end]), 9);
    expect(kinds(events)).toEqual(['session_open', 'query#0@5:rock', 'server_seen', 'first#0@9(q@5)', 'done#0@9:1']);
    const firsts = events.filter((e) => e.kind === 'first_response');
    expect(firsts).toHaveLength(1);
    expect(firsts[0]?.ts).toBe(9);
    expect(counters['opennap.response_mismatch']).toBe(1);
    expect(counters['opennap.resynced']).toBe(1);
  });

  it('resynchronises after a gap and drops queries whose answers may be lost', () => {
    const { analyzer, events, counters } = harness();
    analyzer.onData('toServer', Buffer.concat([login, search('rock')]), 1);
    analyzer.onData('toClient', ack, 2);
    analyzer.onGap('toClient', 100, 3);
    analyzer.onData('toClient', Buffer.concat([result('rock x.mp3').subarray(3), end]), 4);
    analyzer.onData('toServer', search('jazz'), 5);
    analyzer.onData('toClient', Buffer.concat([result('jazz y.mp3'), end]), 6);
    const done = events.filter((e) => e.kind === 'query_done');
    expect(done.map((e) => e.kind === 'query_done' && [e.seq, e.results])).toEqual([[1, 1]]);
    expect(counters['opennap.gap']).toBe(1);
    expect(counters['opennap.resynced']).toBe(1);
  });

  it('keeps the order when the server rejects a search with 404 then 202', () => {
    const { analyzer, events, counters } = harness();
    analyzer.onData('toServer', Buffer.concat([login, encodeFrame(T.Search, 'MAX_RESULTS 10'), search('rock')]), 1);
    analyzer.onData('toClient', Buffer.concat([ack, encodeFrame(T.GeneralError, 'invalid search request'), end]), 2);
    analyzer.onData('toClient', Buffer.concat([result('rock z.mp3'), end]), 3);
    expect(kinds(events).filter((k) => /^(query|first|done)/.test(k))).toEqual(['query#0@1:rock', 'first#0@3(q@1)', 'done#0@3:1']);
    expect(counters['opennap.bad_search']).toBe(1);
  });

  it('drops the newest unanswered search on a refusal (404, no 202), keeping the held older ones in step', () => {
    const { analyzer, events, counters } = harness();
    analyzer.onData('toServer', Buffer.concat([login, search('jazz'), search('rock'), search('pop')]), 1);
    analyzer.onData('toClient', Buffer.concat([ack, encodeFrame(T.GeneralError, 'search failed: too many pending searches')]), 2);
    analyzer.onData('toClient', Buffer.concat([result('jazz x.mp3'), end, result('rock z.mp3'), end]), 3);
    expect(kinds(events).filter((k) => /^(first|done)/.test(k))).toEqual(['first#0@3(q@1)', 'done#0@3:1', 'first#1@3(q@1)', 'done#1@3:1']);
    expect(counters['opennap.search_refused']).toBe(1);
  });

  it('reports a violation on non-OpenNap bytes before confirmation', () => {
    const { analyzer } = harness();
    analyzer.onData('toServer', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n'.repeat(60)), 1);
    expect(analyzer.violated).toBe(true);
    expect(analyzer.confirmed).toBe(false);
  });

  it('gives the same events for any split of the streams', () => {
    const client = Buffer.concat([login, search('rock'), search('pop')]);
    const server = Buffer.concat([ack, result('rock a.mp3'), end, result('pop b.mp3'), result('pop c.mp3'), end]);
    const reference = harness();
    reference.analyzer.onData('toServer', client, 1);
    reference.analyzer.onData('toClient', server, 1);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), (size) => {
        const h = harness();
        for (let i = 0; i < client.length; i += size) h.analyzer.onData('toServer', client.subarray(i, i + size), 1);
        for (let i = 0; i < server.length; i += size) h.analyzer.onData('toClient', server.subarray(i, i + size), 1);
        expect(kinds(h.events)).toEqual(kinds(reference.events));
      }),
    );
  });

  it('never throws on random bytes, gaps and ends in any order', () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant('data' as const), dir: fc.constantFrom<Direction>('toServer', 'toClient'), bytes: fc.uint8Array({ maxLength: 200 }) }),
      fc.record({ op: fc.constant('gap' as const), dir: fc.constantFrom<Direction>('toServer', 'toClient'), bytes: fc.constant(new Uint8Array()) }),
      fc.record({ op: fc.constant('valid' as const), dir: fc.constantFrom<Direction>('toServer', 'toClient'), bytes: fc.constant(new Uint8Array(search('x'))) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const h = harness();
        let ts = 0;
        for (const s of steps) {
          ts++;
          if (s.op === 'gap') h.analyzer.onGap(s.dir, 10, ts);
          else h.analyzer.onData(s.dir, Buffer.from(s.bytes), ts);
        }
        h.analyzer.onEnd(ts + 1, 'rst');
      }),
    );
  });
});

describe('probeOpenNap', () => {
  it.each([
    ['login', 'toServer', login, 'match'],
    ['half a login', 'toServer', login.subarray(0, 10), 'need-more'],
    ['nick check', 'toServer', encodeFrame(T.NickCheck, 'alice'), 'match'],
    ['two searches', 'toServer', Buffer.concat([search('a'), search('b')]), 'match'],
    ['one search alone', 'toServer', search('a'), 'need-more'],
    ['http', 'toServer', Buffer.from('GET / HTTP/1.1\r\n'), 'no'],
    ['tls hello', 'toServer', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), 'no'],
    ['server result to server', 'toServer', result('x.mp3'), 'no'],
    ['login ack + stats from server', 'toClient', Buffer.concat([ack, encodeFrame(T.ServerStats, '1 2 3')]), 'match'],
  ] as const)('%s → %s', (_n, dir, bytes, verdict) => {
    expect(probeOpenNap(dir, bytes)).toBe(verdict);
  });
  it('never throws on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), fc.boolean(), (b, d) => {
      probeOpenNap(d ? 'toServer' : 'toClient', Buffer.from(b));
    }));
  });
});

describe('findFrameBoundary', () => {
  const rules = { maxData: 2048, allowedTypes: CLIENT_TYPES };
  it('finds the start of the second frame after a cut inside the first', () => {
    const buf = Buffer.concat([search('rock'), search('pop')]);
    expect(findFrameBoundary(buf.subarray(5), rules)).toBe(search('rock').length - 5);
  });
  it('answers -1 when nothing plausible is there', () => {
    expect(findFrameBoundary(Buffer.from([1, 2, 3]), rules)).toBe(-1);
  });
});

describe('resultMatches (a first result against its query)', () => {
  /** The definition: the first field (quoted up to `" `, else up to a space), lower-cased, holds every keyword. */
  function byDefinition(buf: Buffer, start: number, end: number, keywords: readonly string[]): boolean {
    if (keywords.length === 0) return true;
    const data = buf.subarray(start, end);
    let from = 0;
    let to: number;
    if (data[0] === 0x22) {
      from = 1;
      to = data.indexOf('" ', 1, 'latin1');
      if (to < 0) to = data.length;
    } else {
      to = data.indexOf(0x20);
      if (to < 0) to = data.length;
    }
    const lower = data.toString('latin1', from, to).toLowerCase();
    return keywords.every((k) => lower.includes(k));
  }

  it('agrees with the definition on any bytes, inside a larger buffer', () => {
    const byte = fc.constantFrom(0x22, 0x20, 0x61, 0x41, 0x62, 0x2e, 0x00, 0xe9);
    fc.assert(
      fc.property(
        fc.array(byte, { maxLength: 8 }),
        fc.array(byte, { maxLength: 40 }),
        fc.array(byte, { maxLength: 8 }),
        fc.array(fc.constantFrom('a', 'b', 'ab', 'a.', '"', 'é'), { maxLength: 3 }),
        (before, data, after, keywords) => {
          const buf = Buffer.from([...before, ...data, ...after]);
          const start = before.length;
          const end = start + data.length;
          expect(resultMatches(buf, start, end, keywords)).toBe(byDefinition(buf, start, end, keywords));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads a quoted name up to `" ` and an unquoted one up to a space', () => {
    const r = Buffer.from('"C:\\Music\\Say "Hi"-Song.mp3" 1234 aabb');
    expect(resultMatches(r, 0, r.length, ['say', '"hi"', 'song'])).toBe(true);
    expect(resultMatches(r, 0, r.length, ['1234'])).toBe(false);
    const u = Buffer.from('plain-name.mp3 99');
    expect(resultMatches(u, 0, u.length, ['plain', 'mp3'])).toBe(true);
    expect(resultMatches(u, 0, u.length, ['99'])).toBe(false);
  });
});
