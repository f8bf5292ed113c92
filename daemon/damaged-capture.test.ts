// The whole passive path (decode → flows → reassembly → OpenNap analyzer → registry → state writer →
// SQLite) on generated traffic with random damage, as a capture of a bad link or a broken tap gives it:
// no exception escapes, the database stays consistent, and damage to one connection costs only that
// connection: every other client's queries, first responses and ends are exactly those of the clean
// capture. The traffic comes from the benchmark's seeded generator (real Napster frames over TCP as on
// a wire), small enough for a run per property case.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnalyzerEvent } from '../analyzers/events.js';
import { Counters } from '../analyzers/counters.js';
import { decodePacket } from '../analyzers/packet/decode.js';
import { DEFAULT_MAX_BUFFERED_TOTAL } from '../analyzers/flows/limits.js';
import { LinkType } from '../analyzers/packet/types.js';
import { generateOpenNapTraffic, OPENNAP_PORT } from '../bench/generate-opennap-capture.js';
import type { GeneratorSummary } from '../bench/generate-opennap-capture.js';
import { loadPolicy } from '../policies/load.js';
import type { Policy } from '../policies/index.js';
import { PassiveAnalysis } from './passive-analysis.js';
import { openState } from './state/index.js';
import { makeTempDir } from './state/test-temp-dir.js';

interface CapturedFrame {
  frame: Buffer;
  ts: number;
  /** `ip:port` of the connection's client side. */
  client: string;
  /** Where the TCP payload starts in `frame` (its length when there is none). */
  payloadAt: number;
}

/** A change to the frames of one connection (indices are taken modulo that connection's frame count). */
type Damage =
  | { kind: 'flip'; frame: number; at: number; bit: number }
  | { kind: 'byte'; frame: number; at: number; value: number }
  | { kind: 'drop'; frame: number }
  | { kind: 'duplicate'; frame: number }
  | { kind: 'swap'; frame: number }
  | { kind: 'cut'; frame: number; keep: number };

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), frame: fc.nat(), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('byte' as const), frame: fc.nat(), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('drop' as const), frame: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), frame: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), frame: fc.nat() }),
  fc.record({ kind: fc.constant('cut' as const), frame: fc.nat(), keep: fc.nat() }),
);

/**
 * Applies `damage` to the frames (indices into `frames`) of one connection. With `payloadOnly`, bytes
 * change and frames are cut only past the TCP header, so a damaged frame still belongs to its
 * connection; otherwise any byte after the Ethernet header may change.
 */
function applyDamage(frames: readonly CapturedFrame[], victimIdx: number[], damage: readonly Damage[], payloadOnly: boolean): CapturedFrame[] {
  const out: (CapturedFrame | null)[] = frames.map((f) => ({ ...f, frame: Buffer.from(f.frame) }));
  const extra = new Map<number, CapturedFrame[]>();
  for (const d of damage) {
    const i = victimIdx[d.frame % victimIdx.length]!;
    const f = out[i];
    if (f === null || f === undefined) continue;
    const from = payloadOnly ? f.payloadAt : 14;
    const span = f.frame.length - from;
    switch (d.kind) {
      case 'flip':
        if (span > 0) f.frame[from + (d.at % span)]! ^= 1 << d.bit;
        break;
      case 'byte':
        if (span > 0) f.frame[from + (d.at % span)] = d.value;
        break;
      case 'drop':
        out[i] = null;
        break;
      case 'duplicate':
        extra.set(i, [...(extra.get(i) ?? []), { ...f, frame: Buffer.from(f.frame) }]);
        break;
      case 'swap': {
        // With the connection's next frame, keeping each position's timestamp (capture order).
        const k = victimIdx.indexOf(i);
        const j = victimIdx[k + 1];
        const g = j === undefined ? null : out[j];
        if (j === undefined || g === null || g === undefined) break;
        out[i] = { ...g, ts: f.ts };
        out[j] = { ...f, ts: g.ts };
        break;
      }
      case 'cut':
        f.frame = f.frame.subarray(0, from + (span > 0 ? d.keep % span : 0));
        break;
    }
  }
  const result: CapturedFrame[] = [];
  out.forEach((f, i) => {
    if (f !== null && f !== undefined) result.push(f);
    for (const dup of extra.get(i) ?? []) result.push(dup);
  });
  return result;
}

/** What a client's connection produced: its queries, first responses and ends, in order. */
function ledgerOf(events: readonly AnalyzerEvent[]): Map<string, string[]> {
  const ledger = new Map<string, string[]>();
  for (const e of events) {
    if (e.kind !== 'query' && e.kind !== 'first_response' && e.kind !== 'query_done') continue;
    const key = `${e.client.ip}:${e.client.port}`;
    const line =
      e.kind === 'query'
        ? `q ${e.seq} ${e.ts} ${e.keywords.join(',')} ${e.maxResults}`
        : e.kind === 'first_response'
          ? `fr ${e.seq} ${e.queryTs} ${e.ts}`
          : `done ${e.seq} ${e.queryTs} ${e.ts} ${e.results}`;
    ledger.set(key, [...(ledger.get(key) ?? []), line]);
  }
  return ledger;
}

interface RunResult {
  ledger: Map<string, string[]>;
  queries: number;
  answered: number;
  counters: Record<string, number>;
  maxBufferedBytes: number;
}

/** The default policy: OpenNap on its usual ports (8888 among them), and self-study for other ports. */
const BY_PORT = '{}';
/** A port nobody names: the analysis finds the servers on it only by probing (self-study). */
const UNNAMED_PORT = 6000;

/** The frame with the server's port (OPENNAP_PORT, 8888) rewritten to UNNAMED_PORT (IPv4 over Ethernet, as generated). */
function onUnnamedPort(f: CapturedFrame): CapturedFrame {
  const frame = Buffer.from(f.frame);
  const tcp = 14 + (frame[14]! & 0x0f) * 4;
  for (const at of [tcp, tcp + 2]) if (frame.readUInt16BE(at) === OPENNAP_PORT) frame.writeUInt16BE(UNNAMED_PORT, at);
  return { ...f, frame };
}

function policy(yaml: string): Policy {
  const r = loadPolicy(yaml, 'test.yaml');
  if (r.kind !== 'ok') throw new Error(`test policy refused: ${JSON.stringify(r.errors)}`);
  return r.policy;
}

/** Feeds the frames to a PassiveAnalysis writing into a fresh SQLite file, as `replay` does. */
function run(frames: readonly CapturedFrame[]): RunResult {
  const tmp = makeTempDir();
  const state = openState(tmp.path('state.db'), { writeWhenFull: true });
  try {
    const events: AnalyzerEvent[] = [];
    const analysis = new PassiveAnalysis({ policy: policy(BY_PORT), state, keepAnswers: false, onEvent: (e) => events.push(e) });
    let expireAt = 0;
    let maxBufferedBytes = 0;
    for (const f of frames) {
      analysis.onFrame(LinkType.EN10MB, f.frame, f.ts, 'eth0');
      maxBufferedBytes = Math.max(maxBufferedBytes, analysis.pipeline.stats().bufferedBytes);
      if (f.ts >= expireAt) {
        analysis.housekeeping(f.ts);
        expireAt = f.ts + 1000;
      }
    }
    analysis.finish(analysis.lastTs);
    state.writer.flush();
    const first = frames[0]?.ts ?? 0;
    const summary = state.reader.serverSummary(analysis.lastTs - first + 1, analysis.lastTs + 0.5);
    for (const s of summary) {
      expect(s.answered).toBeLessThanOrEqual(s.queries);
      expect(s.unanswered).toBe(s.queries - s.answered);
      for (const v of [s.rtAvgMs, s.rtP50Ms, s.rtP99Ms, s.qrAvg]) if (v !== null) expect(Number.isFinite(v) && v >= 0).toBe(true);
    }
    return {
      ledger: ledgerOf(events),
      queries: summary.reduce((n, s) => n + s.queries, 0),
      answered: summary.reduce((n, s) => n + s.answered, 0),
      counters: analysis.allCounters(),
      maxBufferedBytes,
    };
  } finally {
    state.close();
    tmp.remove();
  }
}

describe('a damaged capture through the whole passive path', () => {
  const frames: CapturedFrame[] = [];
  let probeFrames: CapturedFrame[] = [];
  let summary: GeneratorSummary;
  let clean: RunResult;
  let cleanByProbe: RunResult;
  /** Clients with at least one query, and the indices of their connection's frames. */
  let connections: [string, number[]][] = [];

  beforeAll(() => {
    const decodeCounters = new Counters();
    summary = generateOpenNapTraffic(
      {
        write(frame: Buffer, ts: number): void {
          const pkt = decodePacket(LinkType.EN10MB, frame, ts, decodeCounters);
          if (pkt === null) throw new Error('the generator wrote a frame that does not decode');
          const toServer = pkt.dstPort === OPENNAP_PORT;
          const client = toServer ? `${pkt.src}:${pkt.srcPort}` : `${pkt.dst}:${pkt.dstPort}`;
          const payloadAt = pkt.payloadEnd === pkt.payloadStart ? frame.length : pkt.payloadStart;
          frames.push({ frame: Buffer.from(frame), ts, client, payloadAt });
        },
      },
      { seed: 5, servers: 3, clients: 30, packets: 4000 },
    );
    clean = run(frames);
    probeFrames = frames.map(onUnnamedPort);
    cleanByProbe = run(probeFrames);
    const byClient = new Map<string, number[]>();
    frames.forEach((f, i) => byClient.set(f.client, [...(byClient.get(f.client) ?? []), i]));
    connections = [...byClient].filter(([client]) => clean.ledger.has(client));
  });

  it('counts the clean capture exactly', () => {
    expect(clean.queries).toBe(summary.searches);
    expect(clean.answered).toBe(summary.answered);
    expect(connections.length).toBeGreaterThan(10);
    // Learnt by probing, the servers give the same events (the probe holds the first bytes, then replays them).
    expect(cleanByProbe.ledger).toEqual(clean.ledger);
    expect(cleanByProbe.counters['analyzer.attached.opennap']).toBe(clean.counters['analyzer.attached.opennap']);
    expect(cleanByProbe.counters['probe.learnt_server']).toBe(summary.serverAddresses.length);
    expect(clean.counters['probe.learnt_server']).toBeUndefined();
  });

  /** Damages one connection's frames (payload only) at random; every other connection's events stay exactly `clean`'s. */
  function expectOnlyVictimChanges(source: readonly CapturedFrame[], cleanRun: RunResult): void {
    fc.assert(
      fc.property(fc.nat(), fc.array(damageArb, { minLength: 1, maxLength: 40 }), (pick, damage) => {
        const [victim, idx] = connections[pick % connections.length]!;
        const r = run(applyDamage(source, idx, damage, true));
        for (const [client, lines] of cleanRun.ledger) {
          if (client !== victim) expect(r.ledger.get(client)).toEqual(lines);
        }
        // Nothing of another connection appears either.
        for (const client of r.ledger.keys()) expect(cleanRun.ledger.has(client) || client === victim).toBe(true);
      }),
      { numRuns: 40 },
    );
  }

  it('damage to one connection changes nothing of the others', () => {
    expectOnlyVictimChanges(frames, clean);
  });

  it('damage to one connection changes nothing of the others when the servers are learnt by probing', () => {
    expectOnlyVictimChanges(probeFrames, cleanByProbe);
  });

  it('damage anywhere past the link header is counted, never thrown, and stays within the bounds', () => {
    const all = frames.map((_, i) => i);
    fc.assert(
      fc.property(fc.array(damageArb, { minLength: 1, maxLength: 200 }), (damage) => {
        const r = run(applyDamage(frames, all, damage, false));
        for (const [name, n] of Object.entries(r.counters)) {
          if (!(Number.isSafeInteger(n) && n >= 0)) throw new Error(`counter ${name} = ${n}`);
        }
        expect(r.maxBufferedBytes).toBeLessThanOrEqual(DEFAULT_MAX_BUFFERED_TOTAL);
      }),
      { numRuns: 40 },
    );
  });
});
