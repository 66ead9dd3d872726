// The machine's FP32 FMA ceiling beside a benchmark's figure, measured in the same run at the same threads
// (half just before the timed rounds, half just after, the better of the two kept), so that "GFLOP/s" reads as
// a share of what the cores can do now — on a shared machine, or on another CPU, absolute figures do not compare.
import { type CeilingWidth, fmaCeiling } from '../targets/native/ceiling.js';

export interface Ceiling {
  readonly threads: number;
  /** The best FMA rate seen, or null with the reason in `note`. */
  readonly gflops: number | null;
  /** Floats per vector of the widest-running FMA loop. */
  readonly lanes: number | null;
  /** Every vector width's best rate. */
  readonly widths: readonly CeilingWidth[];
  readonly note: string | null;
}

/** Seconds of FMA loops per benchmark, split before and after its timed rounds. */
export const CEILING_SECONDS = 0.3;

const NO_COMPILER = 'no C compiler with OpenMP found, so no FMA loop to measure it with';

const unmeasured = (threads: number, note: string): Ceiling => ({ threads, gflops: null, lanes: null, widths: [], note });

/** The ceiling at `threads`, measured for `seconds`. */
export function measureCeiling(threads: number, seconds = CEILING_SECONDS): Ceiling {
  const widths = fmaCeiling(threads, seconds);
  if (!widths) return unmeasured(threads, NO_COMPILER);
  const best = widths.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  return { threads, gflops: best.gflops, lanes: best.lanes, widths, note: null };
}

/** Runs `timed` between two halves of the ceiling measurement; `skip` (a reason) measures nothing. */
export async function aroundCeiling<T>(threads: number, timed: () => T | Promise<T>, skip: string | null = null): Promise<{ value: T; ceiling: Ceiling }> {
  if (skip) return { value: await timed(), ceiling: unmeasured(threads, skip) };
  const before = measureCeiling(threads, CEILING_SECONDS / 2);
  const value = await timed();
  const after = measureCeiling(threads, CEILING_SECONDS / 2);
  return { value, ceiling: (after.gflops ?? 0) > (before.gflops ?? 0) ? after : before };
}

/** The JSON fields every benchmark appends: the ceiling and `gflops` as a share of it (null without one). */
export function ceilingFields(c: Ceiling, gflops: number): { ceiling_gflops: number | null; share_of_ceiling: number | null } {
  return { ceiling_gflops: c.gflops, share_of_ceiling: c.gflops === null ? null : gflops / c.gflops };
}

/** The line every benchmark prints: the ceiling, and `gflops` as a share of it where one figure is read. */
export function ceilingLine(c: Ceiling, gflops?: number): string {
  const t = `${c.threads} thread${c.threads > 1 ? 's' : ''}`;
  if (c.gflops === null) return `ceiling (${t}): not measured (${c.note})`;
  const share = gflops === undefined ? '' : ` → ${gflops.toFixed(1)} GFLOP/s is ${((100 * gflops) / c.gflops).toFixed(1)} % of it`;
  return `ceiling (${t}, measured in this run): ${c.gflops.toFixed(1)} GFLOP/s FP32 FMA (${c.lanes}-float vectors)${share}`;
}
