// The timing protocol's pieces. A round runs every part once, in a fresh random order; a profile is a series
// of rounds over all its parts, so drift — a co-runner starting, clocks changing — hits every part alike
// instead of whichever part happened to be timed at the time. A part's time is the median of its samples, its
// spread the interquartile range over the median.
import type { Rng } from '../util/random.js';
import type { BlockRunner, Part } from './runner.js';

export interface Timing {
  /** Median of the samples, in milliseconds. */
  readonly ms: number;
  /** (Q3 − Q1) / median: 0.05 means the middle half of the samples lies within a 5 % band. */
  readonly spread: number;
}

/** Linear-interpolation quantile (type 7, as NumPy's default) of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(samples: readonly number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const ms = quantile(s, 0.5);
  return { ms, spread: ms > 0 ? (quantile(s, 0.75) - quantile(s, 0.25)) / ms : 0 };
}

/** One round: every (prepared) part once, in random order. Returns each part's time in ms, in the order given. */
export async function timeRound(runner: BlockRunner, parts: readonly Part[], rng: Rng, now: () => number): Promise<number[]> {
  const times = new Array<number>(parts.length);
  for (const i of rng.shuffled([...parts.keys()])) {
    const t0 = now();
    await runner.run(parts[i]);
    times[i] = now() - t0;
  }
  return times;
}
