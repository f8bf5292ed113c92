// The /proc CPU reader the live-capture bench uses to say how busy the daemon was.
import { describe, expect, it } from 'vitest';
import { cpuSeconds, cpuTicksOfStat } from './proc-cpu.js';

describe('cpuTicksOfStat', () => {
  it('adds utime and stime, counting fields from the last parenthesis of the command name', () => {
    // proc(5) layout; utime = 1234 (field 14), stime = 56 (field 15). The name holds ") (" and spaces.
    const line = '4242 (node a) (b) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 11 0 500 1000 200';
    expect(cpuTicksOfStat(line)).toBe(1290);
  });

  it('is null for a line it cannot read', () => {
    expect(cpuTicksOfStat('')).toBeNull();
    expect(cpuTicksOfStat('12 (x) S 1 2')).toBeNull();
    expect(cpuTicksOfStat('12 (x) S 1 2 3 4 5 6 7 8 9 -1 5')).toBeNull();
  });
});

describe('cpuSeconds', () => {
  it('reads this process and its main thread, and null for a process that does not exist', () => {
    const until = Date.now() + 50;
    while (Date.now() < until); // burn a little CPU so the count is not zero
    const all = cpuSeconds(process.pid);
    const main = cpuSeconds(process.pid, process.pid);
    expect(all).toBeGreaterThan(0);
    expect(main).toBeGreaterThan(0);
    expect(main!).toBeLessThanOrEqual(all!);
    expect(cpuSeconds(0x7ffffffe)).toBeNull();
  });
});
