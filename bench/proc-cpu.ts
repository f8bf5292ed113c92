/**
 * CPU time of another process, or of one of its threads, from /proc: what a
 * benchmark needs to say how busy the daemon was while it kept up (a daemon
 * that keeps up only thanks to its capture ring would sit at 100 % of a core
 * and fall behind on a longer run). Linux only.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * utime + stime, in clock ticks, from a `/proc/PID/stat` or `/proc/PID/task/TID/stat` line (proc(5):
 * fields 14 and 15). The command name, field 2, is in parentheses and may itself hold spaces and
 * parentheses, so fields are counted from the last ')'. Null for a line that does not parse.
 */
export function cpuTicksOfStat(line: string): number | null {
  const close = line.lastIndexOf(')');
  if (close < 0) return null;
  // After ") " comes field 3 (state): utime is 11 fields on, stime 12.
  const fields = line.slice(close + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isSafeInteger(utime) && Number.isSafeInteger(stime) && utime >= 0 && stime >= 0 ? utime + stime : null;
}

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`; 100 on every Linux this runs on, the fallback). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    let n = Number.NaN;
    try {
      n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      // getconf missing: fall back below
    }
    ticksPerSecond = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

/** CPU seconds process `pid` has used (all its threads), or its thread `tid`; null once it is gone. */
export function cpuSeconds(pid: number, tid?: number): number | null {
  const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
  let line: string;
  try {
    line = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const ticks = cpuTicksOfStat(line);
  return ticks === null ? null : ticks / clockTicksPerSecond();
}
