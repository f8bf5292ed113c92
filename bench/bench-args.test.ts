import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { medianRun, positiveInt, readOptions } from './bench-args.js';

describe('bench arguments', () => {
  it('reads known options and refuses unknown ones and bad numbers', () => {
    expect(readOptions(['--rounds', '5'], { rounds: 'string' })).toEqual({ rounds: '5' });
    expect(() => readOptions(['--round', '5'], { rounds: 'string' })).toThrow();
    expect(positiveInt('rounds', '5', 3)).toBe(5);
    expect(positiveInt('rounds', undefined, 3)).toBe(3);
    for (const bad of ['0', '-1', '1.5', 'x', true]) expect(() => positiveInt('rounds', bad, 3)).toThrow(/--rounds needs a positive integer/);
  });

  it('medianRun: the middle run by throughput, whatever order the runs came in', () => {
    expect(medianRun([{ packetsPerS: 3 }, { packetsPerS: 1 }, { packetsPerS: 2 }]).packetsPerS).toBe(2);
    expect(medianRun([{ packetsPerS: 4 }, { packetsPerS: 1 }]).packetsPerS).toBe(4);
    expect(() => medianRun([])).toThrow('no runs');
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { minLength: 1, maxLength: 15 }), (rates) => {
        const runs = rates.map((packetsPerS, i) => ({ packetsPerS, i }));
        const m = medianRun(runs);
        expect(runs).toContain(m);
        expect(runs.filter((r) => r.packetsPerS < m.packetsPerS).length).toBeLessThanOrEqual(runs.length >> 1);
        expect(runs.filter((r) => r.packetsPerS > m.packetsPerS).length).toBeLessThanOrEqual((runs.length - 1) >> 1);
      }),
    );
  });
});
