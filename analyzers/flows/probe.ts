/**
 * Dynamic protocol detection for flows on ports nobody named (Zeek's DPD,
 * Suricata's probing parsers): the first payload bytes are offered to every
 * enabled registration's `probe`. A 'match' picks that analyzer, 'no' drops
 * the candidate, 'need-more' waits for more bytes. Stream bytes are probed
 * as the in-order concatenation per direction; datagrams one at a time.
 * What was offered is kept (copied, bounded) so the chosen analyzer sees the
 * flow from its first byte.
 */
import type { AnalyzerRegistration, Direction } from '../analyzer.js';
import type { Counters } from '../counters.js';

export interface ProbedChunk {
  dir: Direction;
  bytes: Buffer;
  ts: number;
}

export type ProbeOutcome =
  | { kind: 'match'; reg: AnalyzerRegistration }
  | { kind: 'no' }
  | { kind: 'need-more' }
  /** Still undecided when the byte or datagram bound was reached. */
  | { kind: 'bound' };

const NO: ProbeOutcome = { kind: 'no' };
const NEED_MORE: ProbeOutcome = { kind: 'need-more' };
const BOUND: ProbeOutcome = { kind: 'bound' };

export class Prober {
  private readonly candidates: AnalyzerRegistration[];
  private readonly kept: ProbedChunk[] = [];
  private keptBytes = 0;

  constructor(
    candidates: readonly AnalyzerRegistration[],
    private readonly stream: boolean,
    private readonly maxBytes: number,
    private readonly maxDatagrams: number,
  ) {
    this.candidates = [...candidates];
  }

  /** Bytes offered so far (in arrival order), for replay to the chosen analyzer. */
  get chunks(): readonly ProbedChunk[] {
    return this.kept;
  }

  /** Offers `bytes` (a view, not kept unless the answer is need-more). */
  offer(dir: Direction, bytes: Buffer, ts: number, counters: Counters): ProbeOutcome {
    let input = bytes;
    if (this.stream) {
      const prior = this.kept.filter((c) => c.dir === dir).map((c) => c.bytes);
      if (prior.length > 0) input = Buffer.concat([...prior, bytes]);
      if (input.length > this.maxBytes) input = input.subarray(0, this.maxBytes);
    }
    for (let i = 0; i < this.candidates.length; ) {
      const reg = this.candidates[i];
      if (reg === undefined) break;
      let verdict: unknown;
      try {
        verdict = reg.probe(dir, input);
      } catch {
        counters.inc(`probe.exception.${reg.name}`);
        verdict = 'no';
      }
      if (verdict === 'match') return { kind: 'match', reg };
      if (verdict === 'need-more') i++;
      else this.candidates.splice(i, 1);
    }
    if (this.candidates.length === 0) return NO;
    const full = this.stream
      ? this.keptBytes + bytes.length >= this.maxBytes
      : this.kept.length + 1 >= this.maxDatagrams || this.keptBytes + bytes.length > this.maxBytes;
    if (full) return BOUND;
    this.kept.push({ dir, bytes: Buffer.from(bytes), ts });
    this.keptBytes += bytes.length;
    return NEED_MORE;
  }
}
