// Unit tests of the pass/fail properties and tables (paper-figures.ts): each property flips on its own boundary.
import { describe, expect, it } from 'vitest';
import type { ExperimentResults } from './analyse.js';
import { checkProperties, comparisonTable, propertiesTable } from './paper-figures.js';

function good(): ExperimentResults {
  return {
    timeCompression: 10,
    events: { activeAtS: 22, crossedAtS: 22, serviceStartedAtS: 23.4, rulesAppliedAtS: 23.5, flowsResetAtS: 23.5 },
    detectionDelayS: 1.4,
    outageS: { median: 0.3, max: 0.6, perPeer: [] },
    serverQueryRate: { before: 65, after: 36 },
    proxyQueryRate: { after: 30 },
    resultsPerResponseNetB: { before: 20, after: 19, afterRaw: 19 },
    responseTimeNetBMs: { before: { p50: 2, p99: 9 }, after: { p50: 1, p99: 6 } },
    rulesLeftAfterStop: 0,
    windows: { before: { fromS: 3, toS: 23.5 }, after: { fromS: 23.5, toS: 50 } },
    searches: { netA: { sent: 1, answered: 1 }, netB: { sent: 1, answered: 1, interrupted: 0, timedOut: 0 } },
  };
}

const failing: [string, (r: ExperimentResults) => void][] = [
  ['detectionDelayS', (r) => (r.detectionDelayS = 3)],
  ['detectionDelayS', (r) => (r.detectionDelayS = null)],
  ['serverQueryRate', (r) => (r.serverQueryRate.after = 39.1)],
  ['serverQueryRate', (r) => (r.serverQueryRate.before = 0)],
  ['outageS.max', (r) => (r.outageS.max = 2)],
  ['outageS.max', (r) => (r.outageS.max = null)],
  ['resultsPerResponseNetB', (r) => (r.resultsPerResponseNetB.after = 17.9)],
  ['responseTimeNetBMs.p99', (r) => (r.responseTimeNetBMs.after.p99 = 10)],
  ['responseTimeNetBMs.p99', (r) => (r.responseTimeNetBMs.before.p99 = null)],
  ['rulesLeftAfterStop', (r) => (r.rulesLeftAfterStop = 1)],
  ['rulesLeftAfterStop', (r) => (r.rulesLeftAfterStop = null)],
];

describe('checkProperties', () => {
  it('passes every property of a good run, including the exact boundaries', () => {
    const r = good();
    r.serverQueryRate.after = 39; // exactly 60 %
    r.resultsPerResponseNetB.after = 18; // exactly 90 %
    r.responseTimeNetBMs.after.p99 = 9; // equal
    expect(checkProperties(r).filter((c) => !c.pass)).toEqual([]);
  });

  it.each(failing)('fails %s alone', (name, spoil) => {
    const r = good();
    spoil(r);
    expect(checkProperties(r).filter((c) => !c.pass).map((c) => c.name)).toEqual([name]);
  });
});

describe('tables', () => {
  it('prints PASS/FAIL per property and the paper’s figures beside ours', () => {
    const r = good();
    r.rulesLeftAfterStop = 2;
    const props = propertiesTable(checkProperties(r));
    expect(props).toMatch(/^PASS\s+detectionDelayS/m);
    expect(props).toMatch(/^FAIL\s+rulesLeftAfterStop\s+2/m);
    const cmp = comparisonTable(r);
    expect(cmp).toContain('160 s');
    expect(cmp).toMatch(/detection delay\s+10 s\s+1 s\s+1\.40 s/);
    expect(cmp).toMatch(/origin query rate before\s+6\.5\/s\s+65\/s\s+65\.0\/s/);
  });
});
