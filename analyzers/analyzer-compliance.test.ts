import { describe, expect, it } from 'vitest';
import type { DatagramAnalyzerRegistration, StreamAnalyzer, StreamAnalyzerRegistration } from './analyzer.js';
import {
  checkEmptyInput,
  checkEndAnywhere,
  checkGapResync,
  checkRandomBytes,
  checkSpans,
  checkSplitting,
  checkTruncated,
  checkValidSamples,
  describeAnalyzerCompliance,
} from './analyzer-compliance.js';
import { testLineRegistration } from './flows/test-line-analyzer.js';

const lineSamples = {
  validToServer: [Buffer.from('Q alpha\n'), Buffer.from('Q beta\n')],
  validToClient: [Buffer.from('R a1\nR a2\nE\n'), Buffer.from('R b1\nE\n')],
};

describeAnalyzerCompliance(testLineRegistration, lineSamples);

/** A well-behaved datagram analyzer: `PING n` / `PONG n`. */
const pingRegistration: DatagramAnalyzerRegistration = {
  name: 'testping',
  transport: 'udp',
  defaultPorts: [7001],
  probe: (_dir, bytes) => (bytes.length < 5 ? 'need-more' : bytes.toString('latin1').startsWith('PING ') || bytes.toString('latin1').startsWith('PONG ') ? 'match' : 'no'),
  create: (ctx) => {
    const state = { confirmed: false, violated: false };
    const sent = new Map<string, number>();
    return {
      get confirmed() {
        return state.confirmed;
      },
      get violated() {
        return state.violated;
      },
      onDatagram(dir, bytes, ts) {
        const text = bytes.toString('latin1');
        const n = text.slice(5);
        if (dir === 'toServer' && text.startsWith('PING ')) {
          state.confirmed = true;
          sent.set(n, ts);
          ctx.emit({ kind: 'query', protocol: 'testping', server: ctx.flow.server, client: ctx.flow.client, ts, seq: Number(n) || 0, keywords: [], maxResults: 0 });
        } else if (dir === 'toClient' && text.startsWith('PONG ') && sent.has(n)) {
          ctx.emit({ kind: 'first_response', protocol: 'testping', server: ctx.flow.server, client: ctx.flow.client, ts, seq: Number(n) || 0, queryTs: sent.get(n) ?? 0 });
          sent.delete(n);
        } else {
          ctx.count('testping.bad_datagram');
        }
      },
      onEnd() {},
    };
  },
};

describeAnalyzerCompliance(pingRegistration, {
  validToServer: [Buffer.from('PING 1'), Buffer.from('PING 2')],
  validToClient: [Buffer.from('PONG 1'), Buffer.from('PONG 2')],
});

/** testline with one thing broken. */
function broken(name: string, patch: (a: StreamAnalyzer) => Partial<StreamAnalyzer>): StreamAnalyzerRegistration {
  return {
    ...testLineRegistration,
    name,
    create: (ctx) => {
      const inner = testLineRegistration.create({ ...ctx, emit: (e) => ctx.emit({ ...e, protocol: name }) });
      const p = patch(inner);
      return {
        onData: p.onData ?? ((d, b, t) => inner.onData(d, b, t)),
        onGap: p.onGap ?? ((d, n, t) => inner.onGap(d, n, t)),
        onEnd: p.onEnd ?? ((t, r) => inner.onEnd(t, r)),
        get confirmed() {
          return inner.confirmed;
        },
        get violated() {
          return inner.violated;
        },
      };
    },
  };
}

describe('the compliance checks catch broken analyzers', () => {
  it('a throw on odd bytes', () => {
    const reg = broken('thrower', (a) => ({
      onData: (d, b, t) => {
        if (b.includes(0xff)) throw new RangeError('index out of range');
        a.onData(d, b, t);
      },
    }));
    expect(checkRandomBytes(reg, 300).join('\n')).toMatch(/threw: RangeError/);
    expect(checkValidSamples(reg, lineSamples)).toEqual([]);
  });

  it('a throw at the end of a truncated message', () => {
    const reg = broken('endthrower', (a) => ({
      onData: (d, b, t) => a.onData(d, b, t),
      onEnd: () => {
        throw new Error('partial line at end');
      },
    }));
    expect(checkTruncated(reg, lineSamples)[0]).toMatch(/threw/);
    expect(checkEndAnywhere(reg, lineSamples)[0]).toMatch(/threw/);
  });

  it('events that depend on how the bytes were split', () => {
    let calls = 0;
    const reg = broken('chunky', (a) => ({
      onData: (d, b, t) => {
        calls++;
        a.onData(d, b, t === 1_000 ? t : t + calls); // timestamps leak the call count
      },
    }));
    expect(checkSplitting(reg, lineSamples)[0]).toMatch(/changed the events/);
  });

  it('an onDataSpan that reads past its span, or ignores its start', () => {
    const withSpan = (name: string, span: (a: StreamAnalyzer, d: Parameters<StreamAnalyzer['onData']>[0], b: Buffer, s: number, e: number, t: number) => void) => {
      const base = broken(name, () => ({}));
      return {
        ...base,
        create: (ctx: Parameters<StreamAnalyzerRegistration['create']>[0]) => {
          const a = base.create(ctx);
          return Object.assign(a, { onDataSpan: (d: Parameters<StreamAnalyzer['onData']>[0], b: Buffer, s: number, e: number, t: number) => span(a, d, b, s, e, t) });
        },
      } satisfies StreamAnalyzerRegistration;
    };
    expect(checkSpans(withSpan('pastend', (a, d, b, s, _e, t) => a.onData(d, b.subarray(s), t)), lineSamples).join('\n')).toMatch(/other events or counts/);
    expect(checkSpans(withSpan('fromzero', (a, d, b, _s, e, t) => a.onData(d, b.subarray(0, e), t)), lineSamples).join('\n')).toMatch(/other events or counts/);
    expect(checkSpans(withSpan('right', (a, d, b, s, e, t) => a.onData(d, b.subarray(s, e), t)), lineSamples)).toEqual([]);
  });

  it('a gap that is not counted, or no resync after it', () => {
    const silent = broken('silentgap', () => ({ onGap: () => {} }));
    expect(checkGapResync(silent, lineSamples).join('\n')).toMatch(/onGap counted nothing/);
    const stuck = broken('stuck', (a) => {
      let dead = false;
      return {
        onGap: (d, n, t) => {
          dead = true;
          a.onGap(d, n, t);
        },
        onData: (d, b, t) => {
          if (!dead) a.onData(d, b, t);
        },
      };
    });
    expect(checkGapResync(stuck, lineSamples).join('\n')).toMatch(/no resync/);
  });

  it('bad counter names, wrong endpoints, no confirmation, a probe that never matches', () => {
    const badName: StreamAnalyzerRegistration = {
      ...testLineRegistration,
      create: (ctx) => testLineRegistration.create({ ...ctx, count: (n, k) => ctx.count(n.replace('.', '-').toUpperCase(), k) }),
    };
    expect(checkGapResync(badName, lineSamples).join('\n')).toMatch(/not dotted snake_case/);
    const wrongServer: StreamAnalyzerRegistration = {
      ...testLineRegistration,
      create: (ctx) => testLineRegistration.create({ ...ctx, flow: { ...ctx.flow, server: { ip: '198.51.100.1', port: 1 } } }),
    };
    expect(checkValidSamples(wrongServer, lineSamples).join('\n')).toMatch(/names server/);
    const neverMatches: StreamAnalyzerRegistration = { ...testLineRegistration, probe: () => 'need-more' };
    expect(checkValidSamples(neverMatches, lineSamples).join('\n')).toMatch(/probe did not match/);
    expect(checkValidSamples(testLineRegistration, { validToServer: [Buffer.from('nonsense\n')], validToClient: [] }).join('\n')).toMatch(
      /did not confirm/,
    );
    expect(checkEmptyInput({ ...testLineRegistration, probe: () => 'match' }).join('\n')).toMatch(/probe\(toServer, empty\) answered match/);
  });
});
