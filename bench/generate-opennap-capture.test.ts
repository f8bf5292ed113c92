// Unit tests of the benchmark's traffic generator (bench/generate-opennap-capture.ts): small captures fed
// through the real analyzer pipeline must give exactly the searches and answers the generator reports, with
// no framing trouble despite the reordered and retransmitted segments; the same seed gives the same bytes.
import { describe, expect, it } from 'vitest';
import type { AnalyzerEvent } from '../analyzers/events.js';
import { createPipeline } from '../analyzers/flows/pipeline.js';
import { openNapRegistration } from '../analyzers/opennap/index.js';
import { AnalyzerRegistry } from '../analyzers/registry.js';
import { LinkType } from '../analyzers/packet/types.js';
import { MemoryPcapOutput, PcapWriter } from '../daemon/capture/pcap-writer.js';
import { generateOpenNapTraffic } from './generate-opennap-capture.js';
import type { GeneratorOptions } from './generate-opennap-capture.js';

function analyse(options: Partial<GeneratorOptions>): { summary: ReturnType<typeof generateOpenNapTraffic>; events: Map<string, number>; counters: Record<string, number>; flows: number; outOfOrderTs: number } {
  const events = new Map<string, number>();
  const pipeline = createPipeline({
    registry: new AnalyzerRegistry([openNapRegistration]),
    probe: false,
    onEvent: (e: AnalyzerEvent) => events.set(e.kind, (events.get(e.kind) ?? 0) + 1),
  });
  let lastTs = -Infinity;
  let outOfOrderTs = 0;
  const summary = generateOpenNapTraffic(
    {
      write(frame, ts) {
        if (ts < lastTs) outOfOrderTs++;
        lastTs = ts;
        pipeline.handleFrame(LinkType.EN10MB, frame, ts);
      },
    },
    options,
  );
  const flows = pipeline.stats().flows;
  pipeline.closeAll(lastTs);
  return { summary, events, counters: pipeline.counters.snapshot(), flows, outOfOrderTs };
}

describe('generateOpenNapTraffic', () => {
  it.each([
    { seed: 1, servers: 3, clients: 40, packets: 20_000 },
    { seed: 99, servers: 20, clients: 500, packets: 30_000 },
  ])('sessions mode, seed $seed: the pipeline sees every search and answer the generator made', (o) => {
    const { summary, events, counters, outOfOrderTs } = analyse({ ...o, mode: 'sessions' });
    expect(summary.packets).toBeGreaterThanOrEqual(o.packets);
    expect(outOfOrderTs).toBe(0);
    expect(summary.reordered + summary.retransmitted).toBeGreaterThan(0);
    expect(events.get('query')).toBe(summary.searches);
    expect(events.get('first_response')).toBe(summary.answered);
    expect(events.get('query_done')).toBe(summary.answered);
    expect(events.get('session_open')).toBe(summary.sessions);
    expect(events.get('session_close')).toBe(summary.sessions);
    const trouble = Object.entries(counters).filter(([k, v]) => v > 0 && /gap|mismatch|without_query|bad_|too_large|unexpected|resync|evict|drop/.test(k));
    expect(trouble).toEqual([]);
  });

  it('concurrent mode leaves every flow open to the end', () => {
    const { summary, events, flows } = analyse({ seed: 3, mode: 'concurrent', flows: 2_000, servers: 5, clients: 300 });
    expect(summary.sessions).toBe(2_000);
    expect(summary.openAtEnd).toBe(2_000);
    expect(flows).toBe(2_000);
    expect(events.get('session_open')).toBe(2_000);
    expect(events.get('query') ?? 0).toBe(summary.searches);
  });

  it('is deterministic: the same seed gives the same file, another seed another', () => {
    const file = (seed: number): Buffer => {
      const out = new MemoryPcapOutput();
      const w = new PcapWriter(out, { linkType: LinkType.EN10MB });
      generateOpenNapTraffic(w, { seed, servers: 4, clients: 20, packets: 3_000 });
      w.close();
      return out.contents();
    };
    const a = file(5);
    expect(a.equals(file(5))).toBe(true);
    expect(a.equals(file(6))).toBe(false);
  });
});
