// Unit tests of the figures (plots.ts): data from a small run, specs rendered to SVG with the activation marks, PNG bytes.
import { describe, expect, it } from 'vitest';
import { analyse } from './analyse.js';
import type { AnalysisInput } from './analyse.js';
import { ACTIVE_LABEL, fig5Spec, fig6Spec, fig7Spec, plotData, renderPng, renderSvg, TAKEOVER_LABEL } from './plots.js';

const T0 = 1_700_000_000_000;
const at = (s: number): number => T0 + s * 1000;

function input(): AnalysisInput {
  const records = Array.from({ length: 10 }, (_, s) => ({ peer: 'p', keywords: ['k'], sentAt: at(s), firstResultAt: at(s) + 3 + s, results: 10 - (s >= 5 ? 2 : 0), endedBy: 'end' as const }));
  return {
    runStartedAt: T0,
    runEndedAt: at(10),
    warmupMs: 1000,
    origin: '10.201.1.10',
    activeAt: at(4),
    timeline: [
      { ts: at(4.2), server: '10.201.1.10:8888', kind: 'crossed', detail: '' },
      { ts: at(4.6), server: '10.201.1.10:8888', kind: 'service_started', detail: '' },
      { ts: at(5), server: '10.201.1.10:8888', kind: 'rules_applied', detail: '' },
    ],
    originSearches: Array.from({ length: 11 }, (_, k) => ({ at: at(k), value: k <= 5 ? 60 * k : 300 + 30 * (k - 5) })),
    proxySearches: [{ at: at(6), value: 30 }, { at: at(10), value: 150 }],
    peers: [{ host: 'peer8', group: 'B', records }],
    rulesLeftAfterStop: 0,
    timeCompression: 10,
  };
}

describe('plotData', () => {
  const i = input();
  const d = plotData(i, analyse(i));
  it('bins the origin and proxy rates per second and marks activation and takeover', () => {
    expect(d.originRate.slice(0, 6).map((p) => p.rate)).toEqual([60, 60, 60, 60, 60, 30]);
    expect(d.originRate).toHaveLength(10);
    expect(d.proxyRate[9]?.rate).toBe(30);
    // Anchored at 0 at the service start (4.6 s): bin 5-6 s is (30 - 0) / 1.4 s of readings × 1 s.
    expect(d.proxyRate[5]?.rate).toBeCloseTo(30 / 1.4, 9);
    expect(d.markers).toEqual([
      { t: 4, label: ACTIVE_LABEL },
      { t: 5, label: TAKEOVER_LABEL },
    ]);
    expect(d.netBSearches[9]).toEqual({ t: 9, results: 8, responseMs: 12 });
  });
});

describe('rendering', () => {
  const i = input();
  const d = plotData(i, analyse(i));
  it.each([
    ['fig5', fig5Spec],
    ['fig6', fig6Spec],
    ['fig7', fig7Spec],
  ] as const)('%s renders to an SVG with the activation rule lines and labels', async (_name, spec) => {
    const svg = await renderSvg(spec(d));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain(TAKEOVER_LABEL);
    expect(svg).toContain(ACTIVE_LABEL);
    // Two rule lines (vega draws a rule mark as <line>s in a group named after the layer).
    const rules = /<g class="mark-rule role-mark activation_marks"[^>]*>(.*?)<\/g>/s.exec(svg);
    expect(rules?.[1]?.match(/<line /g)).toHaveLength(2);
  });

  it('has no rule line when nothing happened', async () => {
    const svg = await renderSvg(fig5Spec({ ...d, markers: [] }));
    expect(svg).not.toContain('activation_marks');
    expect(svg).not.toContain(TAKEOVER_LABEL);
  });

  it('rasterises to PNG', async () => {
    const png = renderPng(await renderSvg(fig6Spec(d)));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.length).toBeGreaterThan(1000);
  });
});
