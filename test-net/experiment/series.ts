/**
 * Time-series helpers of the experiment's analysis (seed 001 Fig. 5–7):
 * rates from cumulative counters read at irregular times, and per-bin
 * aggregates of per-search values. Pure: times are epoch ms passed in.
 */

/** One reading of a cumulative counter (e.g. the origin's searches so far). */
export interface CounterSample {
  at: number;
  value: number;
}

/**
 * The counter's value at `t`, linearly interpolated between the readings
 * around it (readings sorted by time). Before the first reading it is the
 * first value, after the last the last: no extrapolation, so a rate outside
 * the observed span is 0 rather than invented. Null without readings.
 */
export function counterAt(samples: readonly CounterSample[], t: number): number | null {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined) return null;
  if (t <= first.at) return first.value;
  if (t >= last.at) return last.value;
  let lo = 0;
  let hi = samples.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((samples[mid]?.at ?? 0) <= t) lo = mid;
    else hi = mid;
  }
  const a = samples[lo];
  const b = samples[hi];
  if (a === undefined || b === undefined) return null;
  if (b.at === a.at) return b.value;
  return a.value + ((b.value - a.value) * (t - a.at)) / (b.at - a.at);
}

/** Mean rate (per second) of a cumulative counter over [from, to); null when the span is empty or there are no readings. */
export function rateBetween(samples: readonly CounterSample[], from: number, to: number): number | null {
  if (!(to > from)) return null;
  const a = counterAt(samples, from);
  const b = counterAt(samples, to);
  if (a === null || b === null) return null;
  return ((b - a) * 1000) / (to - from);
}

/** Sorts readings by time and drops counter resets (a value lower than the one before: a restarted process). */
export function cleanCounter(samples: readonly CounterSample[]): CounterSample[] {
  const sorted = [...samples].sort((x, y) => x.at - y.at);
  const out: CounterSample[] = [];
  for (const s of sorted) {
    const prev = out[out.length - 1];
    if (prev !== undefined && s.value < prev.value) continue;
    out.push(s);
  }
  return out;
}

export interface RatePoint {
  /** Seconds since the run's origin (start of the bin). */
  t: number;
  rate: number;
}

/**
 * Rates in consecutive bins of `binMs` from `origin` to `end`: one point per
 * bin, the counter's increase across it divided by its length. Bins outside
 * the readings' span come out 0 (see counterAt).
 */
export function rateSeries(samples: readonly CounterSample[], origin: number, end: number, binMs: number): RatePoint[] {
  const out: RatePoint[] = [];
  if (!(binMs > 0) || samples.length === 0) return out;
  for (let t = origin; t + binMs <= end + 1e-9; t += binMs) {
    const r = rateBetween(samples, t, t + binMs);
    out.push({ t: (t - origin) / 1000, rate: r ?? 0 });
  }
  return out;
}

export interface BinPoint {
  t: number;
  value: number;
  n: number;
}

/** Per-bin mean of values stamped with times (epoch ms); empty bins are left out. */
export function binMeans(points: readonly { at: number; value: number }[], origin: number, binMs: number): BinPoint[] {
  const bins = new Map<number, { sum: number; n: number }>();
  for (const p of points) {
    if (p.at < origin) continue;
    const k = Math.floor((p.at - origin) / binMs);
    const b = bins.get(k) ?? { sum: 0, n: 0 };
    b.sum += p.value;
    b.n++;
    bins.set(k, b);
  }
  return [...bins.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([k, b]) => ({ t: (k * binMs) / 1000, value: b.sum / b.n, n: b.n }));
}

/** The proxy's counter is 0 until its service starts: anchored there, its first readings are not smeared backwards. */
export function proxyCounter(samples: readonly CounterSample[], serviceStartedAt: number | null): CounterSample[] {
  const clean = cleanCounter(samples);
  const first = clean[0];
  return serviceStartedAt !== null && (first === undefined || first.at > serviceStartedAt) ? [{ at: serviceStartedAt, value: 0 }, ...clean] : clean;
}
