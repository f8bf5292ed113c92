/**
 * The shared compliance suite every analyzer must pass (after js-libp2p's
 * transport compliance tests and Zeek's rule that bad input is a counted
 * "weird", never a crash). Given a registration and a valid sample
 * conversation it checks: empty input; random bytes (fast-check); truncated
 * valid input; valid input split at every byte boundary gives the same
 * events as whole (streams) or replays identically (datagrams); a gap in the
 * middle is counted and parsing resynchronises; onEnd at any point; an
 * analyzer with `onDataSpan` does with a span of a larger buffer exactly what
 * onData does with those bytes alone. Events must be well-formed and counter
 * names stable snake_case.
 *
 * Each check is a plain function returning a list of problems (empty means
 * pass), so the checks themselves are tested; `describeAnalyzerCompliance`
 * registers them as vitest tests.
 */
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { AnalyzerContext, AnalyzerRegistration, Direction, FlowEndReason, FlowKey } from './analyzer.js';
import type { AnalyzerEvent } from './events.js';

export interface ComplianceSamples {
  /** Valid bytes (stream chunks or datagrams) the client sends, in order. */
  validToServer: Buffer[];
  /** Valid bytes the server sends, in order. The script interleaves them: c0, s0, c1, s1, ... */
  validToClient: Buffer[];
}

/** Above this many sample bytes, byte-boundary checks sample positions instead of trying all (keeps the suite fast). */
export const MAX_EXHAUSTIVE_BYTES = 4096;
/** fast-check runs for the random-input property. */
export const RANDOM_RUNS = 300;

/** Stable counter names: dotted snake_case with a protocol prefix, e.g. `opennap.length_mismatch`. */
export const COUNTER_NAME = /^[a-z0-9_]+(\.[a-z0-9_]+)+$/;

const EVENT_KINDS = new Set(['server_seen', 'session_open', 'session_close', 'login', 'shares', 'query', 'first_response', 'query_done']);
const END_REASONS: readonly FlowEndReason[] = ['fin', 'rst', 'idle', 'evicted', 'shutdown'];

export type Step =
  | { op: 'data'; dir: Direction; bytes: Buffer; ts: number }
  | { op: 'gap'; dir: Direction; length: number; ts: number }
  | { op: 'end'; reason: FlowEndReason; ts: number };

export interface RunResult {
  events: AnalyzerEvent[];
  counts: Map<string, number>;
  /** Counts recorded during onGap calls (an analyzer must count every gap it is told about). */
  countsInGap: number;
  /** Events emitted after step `mark` (see runScript). */
  eventsAfterMark: number;
  confirmed: boolean;
  violated: boolean;
  problems: string[];
}

export function complianceFlow(reg: AnalyzerRegistration): FlowKey {
  return {
    transport: reg.transport,
    client: { ip: '192.0.2.1', port: 40000 },
    server: { ip: '192.0.2.2', port: reg.defaultPorts[0] ?? 1 },
  };
}

/** Bytes around a span handed to onDataSpan (runScript `viaSpan`): an analyzer that reads past the span sees them. */
const SPAN_JUNK_BEFORE = Buffer.from([0x00, 0x04, 0xc8, 0x00, 0x45]);
const SPAN_JUNK_AFTER = Buffer.from([0x0a, 0x45, 0x0a, 0x00, 0x00, 0xc9, 0x00]);

/**
 * Runs `steps` against a fresh analyzer, catching anything thrown and checking what it emits and counts.
 * With `viaSpan`, stream data goes through `onDataSpan` (when the analyzer has it), each chunk as a span
 * between junk bytes.
 */
export function runScript(reg: AnalyzerRegistration, steps: readonly Step[], mark = -1, viaSpan = false): RunResult {
  const flow = complianceFlow(reg);
  const events: AnalyzerEvent[] = [];
  const counts = new Map<string, number>();
  const problems: string[] = [];
  let inGap = false;
  let countsInGap = 0;
  let eventsAfterMark = 0;
  let stepIndex = -1;
  const ctx: AnalyzerContext = {
    flow,
    learnt: 'port',
    emit(event) {
      events.push(event);
      if (mark >= 0 && stepIndex > mark) eventsAfterMark++;
      const bad = eventProblem(event, reg, flow);
      if (bad !== undefined) problems.push(`step ${stepIndex}: ${bad}`);
    },
    count(name, n = 1) {
      if (!COUNTER_NAME.test(name)) problems.push(`step ${stepIndex}: counter name "${name}" is not dotted snake_case`);
      if (!Number.isFinite(n) || n < 0) problems.push(`step ${stepIndex}: counter ${name} counted by ${n}`);
      counts.set(name, (counts.get(name) ?? 0) + n);
      if (inGap) countsInGap++;
    },
  };
  let analyzer;
  try {
    analyzer = reg.create(ctx);
  } catch (err) {
    problems.push(`create threw: ${describeError(err)}`);
    return { events, counts, countsInGap, eventsAfterMark, confirmed: false, violated: false, problems };
  }
  for (stepIndex = 0; stepIndex < steps.length; stepIndex++) {
    const step = steps[stepIndex];
    if (step === undefined) continue;
    try {
      if (step.op === 'data') {
        if ('onDatagram' in analyzer) analyzer.onDatagram(step.dir, step.bytes, step.ts);
        else if (viaSpan && analyzer.onDataSpan !== undefined) {
          const start = SPAN_JUNK_BEFORE.length;
          const around = Buffer.concat([SPAN_JUNK_BEFORE, step.bytes, SPAN_JUNK_AFTER]);
          analyzer.onDataSpan(step.dir, around, start, start + step.bytes.length, step.ts);
        } else analyzer.onData(step.dir, step.bytes, step.ts);
      } else if (step.op === 'gap') {
        inGap = true;
        if ('onGap' in analyzer) analyzer.onGap(step.dir, step.length, step.ts);
        inGap = false;
      } else {
        analyzer.onEnd(step.ts, step.reason);
      }
    } catch (err) {
      inGap = false;
      problems.push(`step ${stepIndex} (${step.op}) threw: ${describeError(err)}`);
      break;
    }
  }
  return { events, counts, countsInGap, eventsAfterMark, confirmed: analyzer.confirmed, violated: analyzer.violated, problems };
}

/** The sample conversation as data steps: c0, s0, c1, s1, ... with increasing timestamps. */
export function sampleSteps(samples: ComplianceSamples, t0 = 1_000): Extract<Step, { op: 'data' }>[] {
  const steps: Extract<Step, { op: 'data' }>[] = [];
  const n = Math.max(samples.validToServer.length, samples.validToClient.length);
  for (let i = 0; i < n; i++) {
    const c = samples.validToServer[i];
    const s = samples.validToClient[i];
    if (c !== undefined) steps.push({ op: 'data', dir: 'toServer', bytes: c, ts: t0 + steps.length * 10 });
    if (s !== undefined) steps.push({ op: 'data', dir: 'toClient', bytes: s, ts: t0 + steps.length * 10 });
  }
  return steps;
}

const end = (ts: number, reason: FlowEndReason = 'fin'): Step => ({ op: 'end', reason, ts });

export function checkEmptyInput(reg: AnalyzerRegistration): string[] {
  const empty = Buffer.alloc(0);
  const r = runScript(reg, [
    { op: 'data', dir: 'toServer', bytes: empty, ts: 1 },
    { op: 'data', dir: 'toClient', bytes: empty, ts: 2 },
    end(3),
  ]);
  const problems = [...r.problems];
  if (r.events.length > 0) problems.push(`empty input emitted ${r.events.length} events`);
  for (const dir of ['toServer', 'toClient'] as const) {
    const v = safeProbe(reg, dir, empty);
    if (v !== 'need-more' && v !== 'no') problems.push(`probe(${dir}, empty) answered ${v}`);
  }
  return problems;
}

export function checkValidSamples(reg: AnalyzerRegistration, samples: ComplianceSamples): string[] {
  const steps = sampleSteps(samples);
  if (steps.length === 0) return ['no samples given'];
  const r = runScript(reg, [...steps, end(1e9)]);
  const problems = [...r.problems];
  if (!r.confirmed) problems.push('valid samples did not confirm the analyzer');
  if (r.violated) problems.push('valid samples were reported as a violation');
  if (r.events.length === 0) problems.push('valid samples emitted no events');
  const join = (bufs: Buffer[]) => (reg.transport === 'tcp' ? Buffer.concat(bufs) : (bufs[0] ?? Buffer.alloc(0)));
  const vs = safeProbe(reg, 'toServer', join(samples.validToServer));
  const vc = safeProbe(reg, 'toClient', join(samples.validToClient));
  if (vs !== 'match' && vc !== 'match') problems.push(`probe did not match the valid samples (toServer: ${vs}, toClient: ${vc})`);
  return problems;
}

export function checkRandomBytes(reg: AnalyzerRegistration, runs = RANDOM_RUNS): string[] {
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ op: fc.constant('data' as const), dir: fc.constantFrom<Direction>('toServer', 'toClient'), bytes: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), ts: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('gap' as const), dir: fc.constantFrom<Direction>('toServer', 'toClient'), length: fc.integer({ min: 1, max: 1 << 20 }), ts: fc.nat() }) },
  );
  const problems: string[] = [];
  const result = fc.check(
    fc.property(fc.array(stepArb, { maxLength: 20 }), fc.constantFrom(...END_REASONS), (steps, reason) => {
      const r = runScript(reg, [...steps, end(1e9, reason)]);
      for (const s of steps) {
        if (s.op !== 'data') continue;
        const v = safeProbe(reg, s.dir, s.bytes);
        if (v !== 'match' && v !== 'no' && v !== 'need-more') r.problems.push(`probe answered ${v}`);
      }
      if (r.problems.length > 0) {
        problems.push(...r.problems);
        return false;
      }
      return true;
    }),
    { numRuns: runs },
  );
  if (result.failed) problems.unshift(`random input failed after ${result.numRuns} runs (seed ${result.seed})`);
  return [...new Set(problems)];
}

export function checkTruncated(reg: AnalyzerRegistration, samples: ComplianceSamples): string[] {
  const steps = sampleSteps(samples);
  const problems: string[] = [];
  for (let k = 0; k < steps.length; k++) {
    const step = steps[k];
    if (step === undefined) continue;
    for (const cut of positions(step.bytes.length)) {
      const r = runScript(reg, [...steps.slice(0, k), { ...step, bytes: step.bytes.subarray(0, cut) }, end(1e9)]);
      problems.push(...r.problems.map((p) => `cut chunk ${k} at ${cut}: ${p}`));
      if (problems.length > 0) return problems;
    }
  }
  return problems;
}

export function checkSplitting(reg: AnalyzerRegistration, samples: ComplianceSamples): string[] {
  const steps = sampleSteps(samples);
  const whole = runScript(reg, [...steps, end(1e9)]);
  if (whole.problems.length > 0) return whole.problems;
  const problems: string[] = [];
  if (reg.transport === 'udp') {
    // Datagrams are never split; the same datagrams must give the same events again.
    const again = runScript(reg, [...steps, end(1e9)]);
    if (!isDeepStrictEqual(again.events, whole.events)) problems.push('replaying the same datagrams gave different events');
    return problems;
  }
  for (let k = 0; k < steps.length; k++) {
    const step = steps[k];
    if (step === undefined) continue;
    for (const at of positions(step.bytes.length)) {
      if (at === 0 || at === step.bytes.length) continue;
      const split: Step[] = [
        ...steps.slice(0, k),
        { ...step, bytes: step.bytes.subarray(0, at) },
        { ...step, bytes: step.bytes.subarray(at) },
        ...steps.slice(k + 1),
        end(1e9),
      ];
      const r = runScript(reg, split);
      problems.push(...r.problems);
      if (!isDeepStrictEqual(r.events, whole.events)) problems.push(`splitting chunk ${k} at byte ${at} changed the events`);
      if (problems.length > 0) return problems;
    }
  }
  // Every chunk cut into random pieces at once.
  const result = fc.check(
    fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 16 }), (sizes) => {
      const r = runScript(reg, [...cutIntoPieces(steps, sizes), end(1e9)]);
      return r.problems.length === 0 && isDeepStrictEqual(r.events, whole.events);
    }),
    { numRuns: 100 },
  );
  if (result.failed) problems.push(`random splitting changed the events (seed ${result.seed})`);
  return problems;
}

/**
 * A stream analyzer with `onDataSpan`: the samples, whole and cut into random pieces, each piece a span
 * between junk bytes, give the events and counts onData gives (nothing to check without it).
 */
export function checkSpans(reg: AnalyzerRegistration, samples: ComplianceSamples): string[] {
  if (reg.transport !== 'tcp') return [];
  const steps = sampleSteps(samples);
  const whole = runScript(reg, [...steps, end(1e9)]);
  if (whole.problems.length > 0) return whole.problems;
  const same = (r: RunResult): boolean => r.problems.length === 0 && isDeepStrictEqual(r.events, whole.events) && isDeepStrictEqual(r.counts, whole.counts);
  const spans = runScript(reg, [...steps, end(1e9)], -1, true);
  const problems = [...spans.problems];
  if (!same(spans)) problems.push('onDataSpan gave other events or counts than onData');
  const result = fc.check(
    fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 16 }), (sizes) => {
      return same(runScript(reg, [...cutIntoPieces(steps, sizes), end(1e9)], -1, true));
    }),
    { numRuns: 100 },
  );
  if (result.failed) problems.push(`onDataSpan of random pieces changed the events or counts (seed ${result.seed})`);
  return problems;
}

export function checkGapResync(reg: AnalyzerRegistration, samples: ComplianceSamples): string[] {
  const steps = sampleSteps(samples);
  const problems: string[] = [];
  const replayFrom = 1e6;
  const replay = sampleSteps(samples, replayFrom);
  for (let k = 0; k < steps.length; k++) {
    const step = steps[k];
    if (step === undefined) continue;
    // The whole chunk lost, then half of it lost (a hole inside a message).
    for (const keep of [0, Math.floor(step.bytes.length / 2)]) {
      const before: Step[] = [...steps.slice(0, k)];
      if (keep > 0) before.push({ ...step, bytes: step.bytes.subarray(0, keep) });
      const lost: Step[] = reg.transport === 'tcp' ? [{ op: 'gap', dir: step.dir, length: step.bytes.length - keep, ts: step.ts }] : [];
      const script = [...before, ...lost, ...steps.slice(k + 1)];
      const mark = script.length - 1;
      const r = runScript(reg, [...script, ...replay, end(2e9)], mark);
      const where = `gap in chunk ${k} after ${keep} bytes`;
      problems.push(...r.problems.map((p) => `${where}: ${p}`));
      if (reg.transport === 'tcp' && r.countsInGap === 0) problems.push(`${where}: onGap counted nothing`);
      if (r.eventsAfterMark === 0) problems.push(`${where}: no events from the valid conversation replayed after the gap (no resync)`);
      if (problems.length > 0) return problems;
    }
  }
  return problems;
}

export function checkEndAnywhere(reg: AnalyzerRegistration, samples: ComplianceSamples): string[] {
  const steps = sampleSteps(samples);
  const problems: string[] = [];
  for (let k = 0; k <= steps.length; k++) {
    for (const reason of END_REASONS) {
      const r = runScript(reg, [...steps.slice(0, k), end(1e9, reason)]);
      problems.push(...r.problems.map((p) => `end (${reason}) after ${k} chunks: ${p}`));
    }
    if (problems.length > 0) return problems;
  }
  return problems;
}

/** Registers the compliance tests for `reg` with vitest. */
export function describeAnalyzerCompliance(reg: AnalyzerRegistration, samples: ComplianceSamples): void {
  describe(`analyzer compliance: ${reg.name}`, () => {
    it('handles empty input', () => expect(checkEmptyInput(reg)).toEqual([]));
    it('confirms on the valid samples, emits well-formed events, and its probe matches them', () =>
      expect(checkValidSamples(reg, samples)).toEqual([]));
    it('never throws on random bytes and gaps', () => expect(checkRandomBytes(reg)).toEqual([]));
    it('never throws on truncated valid input', () => expect(checkTruncated(reg, samples)).toEqual([]));
    it('gives the same events however the input is split', () => expect(checkSplitting(reg, samples)).toEqual([]));
    it('onDataSpan, when it has one, does what onData does with the span alone', () => expect(checkSpans(reg, samples)).toEqual([]));
    it('counts a gap in the middle and resynchronises', () => expect(checkGapResync(reg, samples)).toEqual([]));
    it('accepts onEnd at any point, for every reason', () => expect(checkEndAnywhere(reg, samples)).toEqual([]));
  });
}

/** Every chunk of `steps` cut into pieces of the given sizes (cycled). */
function cutIntoPieces(steps: readonly Extract<Step, { op: 'data' }>[], sizes: readonly number[]): Step[] {
  const pieces: Step[] = [];
  let i = 0;
  for (const step of steps) {
    for (let off = 0; off < step.bytes.length; ) {
      const n = sizes[i++ % sizes.length] ?? 1;
      pieces.push({ ...step, bytes: step.bytes.subarray(off, off + n) });
      off += n;
    }
  }
  return pieces;
}

function positions(length: number): number[] {
  if (length <= MAX_EXHAUSTIVE_BYTES) return Array.from({ length: length + 1 }, (_, i) => i);
  const step = Math.ceil(length / 512);
  const out: number[] = [];
  for (let i = 0; i < length; i += step) out.push(i, i + 1);
  out.push(length - 1, length);
  return out.filter((p) => p <= length);
}

function eventProblem(e: AnalyzerEvent, reg: AnalyzerRegistration, flow: FlowKey): string | undefined {
  if (!EVENT_KINDS.has(e.kind)) return `unknown event kind ${String(e.kind)}`;
  if (e.protocol !== reg.name) return `${e.kind} event has protocol ${e.protocol}, not ${reg.name}`;
  if (!Number.isFinite(e.ts)) return `${e.kind} event has timestamp ${e.ts}`;
  if (!isDeepStrictEqual(e.server, flow.server)) return `${e.kind} event names server ${JSON.stringify(e.server)}, not the flow's`;
  if ('client' in e && !isDeepStrictEqual(e.client, flow.client)) return `${e.kind} event names client ${JSON.stringify(e.client)}, not the flow's`;
  return undefined;
}

function safeProbe(reg: AnalyzerRegistration, dir: Direction, bytes: Buffer): string {
  try {
    return String(reg.probe(dir, bytes));
  } catch (err) {
    return `a throw (${describeError(err)})`;
  }
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
