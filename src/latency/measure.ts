// The timing protocol's pieces. A round runs every part once, in a fresh random order; a profile is a series
// of rounds over all its parts, so drift — a co-runner starting, clocks changing — hits every part alike
// instead of whichever part happened to be timed at the time. A part's time is the median of its samples, its
// spread the interquartile range over the median.
import type { Measurement } from './profile-format.js';
import { Rng } from '../util/random.js';
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

/** One round: every (prepared) part once, in random order. Returns each part's time in ms, in the order given:
 *  the runner's own measure where it has one, else the clock around run(). */
export async function timeRound(runner: BlockRunner, parts: readonly Part[], rng: Rng, now: () => number): Promise<number[]> {
  const times = new Array<number>(parts.length);
  for (const i of rng.shuffled([...parts.keys()])) {
    if (runner.time) {
      times[i] = await runner.time(parts[i]);
      continue;
    }
    const t0 = now();
    await runner.run(parts[i]);
    times[i] = now() - t0;
  }
  return times;
}

/** A part and its timed runs so far. */
export interface PartSamples {
  readonly part: Part;
  readonly times: number[];
}

export interface RoundOptions {
  /** Untimed rounds over all parts first. */
  readonly warmup: number;
  /** Samples each part needs. */
  readonly repeats: number;
  readonly seed: number;
  /** Milliseconds; tests pass a virtual clock. */
  readonly now: () => number;
}

/** Times the (prepared) parts in interleaved rounds until each has `repeats` samples, appending to their `times`;
 *  `onRound(round, parts timed, ms)` runs after every round (the profiler saves there, the page shows progress). */
export async function timeRounds(
  runner: BlockRunner, todo: readonly PartSamples[], o: RoundOptions, onRound: (round: number, timed: number, ms: number) => void | Promise<void>,
): Promise<void> {
  const rng = new Rng(o.seed);
  for (let w = 0; w < o.warmup; w++) await timeRound(runner, todo.map((s) => s.part), rng, o.now);
  for (let round = 1; ; round++) {
    const left = todo.filter((s) => s.times.length < o.repeats);
    if (left.length === 0) return;
    const t0 = o.now();
    (await timeRound(runner, left.map((s) => s.part), rng, o.now)).forEach((t, i) => left[i].times.push(t));
    await onRound(round, left.length, o.now() - t0);
  }
}

/** A profile's measurements: every part with at least one sample, in the given order. */
export function measurementsOf(samples: Iterable<PartSamples>): Measurement[] {
  return [...samples].filter((s) => s.times.length).map((s) => ({ part: s.part, ...summarize(s.times), samples: [...s.times] }));
}

/** Compiles the parts `batch` at a time (one compiler run each); `onBatch(done, ms)` after each. */
export async function prepareInBatches(runner: BlockRunner, parts: readonly Part[], batch: number, now: () => number, onBatch: (done: number, ms: number) => void | Promise<void>): Promise<void> {
  for (let b = 0; b < parts.length; b += batch) {
    const t0 = now();
    await runner.prepare(parts.slice(b, b + batch));
    await onBatch(Math.min(b + batch, parts.length), now() - t0);
  }
}
