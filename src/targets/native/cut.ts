// Where a stage plan is cut into pipelined segments (segment.ts), chosen by timing candidate cuts on this machine.
// How long a pipeline may grow before its rows spill out of the caches is the CPU's business (per core, this
// Zen 5 has 1 MiB of L2 and 16 MiB of L3; recent Xeons 2 MiB of L2 and about 2 MiB of L3), so candidates are
// scratch budgets in multiples of the L2, and the fastest whole plan on a frame of the real size wins. Like the
// stage tuner: one thread (doing the work of the bands the real threads take, whose edges a pipeline computes
// twice), interleaved rounds, each candidate's fastest run, cached on disk; every cut computes the same bits.
import { readFileSync } from 'node:fs';
import type { StagePlan } from '../../compiler/plan.js';
import type { Io } from '../../compiler/stage.js';
import { fastestRuns } from '../../util/fastest.js';
import { Rng } from '../../util/random.js';
import { SegmentKernels } from './kernels.js';
import { groupSegments, placeSegment, type SegmentStage } from './segment.js';
import { cacheEntry, readChoice, type TuneEnv, writeChoice } from './tune.js';

/** Scratch budgets tried, in multiples of the L2: 0 runs every stage alone (frame-sized buffers between stages,
 *  as before segments), Infinity the whole plan as one pipeline. */
export const CUT_BUDGETS = [0, 1, 2, 4, 8, Infinity] as const;

/** The untuned cut (× L2): on Zen 5 the fastest for WDSR-B at 16 and 24 channels (docs/compiler.md). */
export const DEFAULT_CUT = 4;

/** This CPU's per-core L2 in bytes (Linux sysfs; 1 MiB where it cannot be read). */
export function l2Bytes(): number {
  for (let i = 0; i < 8; i++) {
    try {
      const dir = `/sys/devices/system/cpu/cpu0/cache/index${i}`;
      if (readFileSync(`${dir}/level`, 'utf8').trim() !== '2') continue;
      const m = /^(\d+)([KM]?)/.exec(readFileSync(`${dir}/size`, 'utf8').trim());
      if (m) return Number(m[1]) * (m[2] === 'M' ? 2 ** 20 : m[2] === 'K' ? 2 ** 10 : 1);
    } catch {
      break;
    }
  }
  return 2 ** 20;
}

/** The plan cut for frames w wide within `budget` × L2 of scratch per thread. */
export function cutPlan(plan: StagePlan, w: number, vw: number, budget: number): number[][] {
  return groupSegments(plan, Math.ceil(w / vw) * vw, vw, budget * l2Bytes());
}

/** The budgets of CUT_BUDGETS that cut `plan` differently for frames w wide, each with its cut, in that order. */
export function cutCandidates(plan: StagePlan, w: number, vw: number): { budget: number; groups: number[][] }[] {
  const cuts = new Map<string, { budget: number; groups: number[][] }>();
  for (const budget of CUT_BUDGETS) {
    const groups = cutPlan(plan, w, vw, budget);
    if (!cuts.has(JSON.stringify(groups))) cuts.set(JSON.stringify(groups), { budget, groups });
  }
  return [...cuts.values()];
}

/** Counts of cut choices read from the cache and measured afresh in this process. */
export const cutStats = { hits: 0, measured: 0 };

/** The budget (one of CUT_BUDGETS) to cut `plan` with for h×w frames on `threads` threads: cached, else
 *  measured among the budgets that cut it differently. */
export async function tuneCut(plan: StagePlan, stages: readonly SegmentStage[], io: Io, h: number, w: number, threads: number, env: TuneEnv): Promise<number> {
  const cands = cutCandidates(plan, w, env.tc.target.vw);
  if (cands.length === 1) return cands[0].budget;
  // JSON has no Infinity: the choice is stored as an index into CUT_BUDGETS.
  const entry = cacheEntry({ cut: stages.map((s) => [s.shape, s.tuning, s.node.terms.map((t) => t.x), s.node.residual, s.node.y]), io, threads }, w, env);
  const cached = readChoice(entry, (x): x is number => Number.isInteger(x) && CUT_BUDGETS[x as number] !== undefined);
  if (cached !== null) {
    cutStats.hits++;
    return CUT_BUDGETS[cached];
  }
  const ms = timeCuts(plan, stages, cands.map((c) => c.groups), io, h, w, threads, env);
  const best = ms.indexOf(Math.min(...ms));
  cutStats.measured++;
  writeChoice(entry, CUT_BUDGETS.indexOf(cands[best].budget as (typeof CUT_BUDGETS)[number]), cands.map((c, i) => ({ budget: c.budget, groups: c.groups, ms: ms[i] })));
  return cands[best].budget;
}

/** One module with every cut's segments, cut after cut, and where each cut's first segment is in it. The runner
 *  deploys its chosen cut from this same module, so a cold cache compiles it once (the source is its key). */
export function cutsModule(cuts: readonly (readonly (readonly number[])[])[], stages: readonly SegmentStage[], env: TuneEnv): { kernels: SegmentKernels; first: number[] } {
  const kernels = new SegmentKernels(cuts.flatMap((groups) => groups.map((g) => g.map((i) => stages[i]))), env.tc, env.cacheDir);
  const first = cuts.map((_, i) => cuts.slice(0, i).reduce((a, groups) => a + groups.length, 0));
  return { kernels, first };
}

/** Each cut's fastest run of the whole plan on a random h×w frame, on one thread in `threads` threads' bands, over
 *  interleaved rounds. */
function timeCuts(plan: StagePlan, stages: readonly SegmentStage[], cuts: readonly number[][][], io: Io, h: number, w: number, threads: number, env: TuneEnv): number[] {
  const { kernels, first } = cutsModule(cuts, stages, env);
  const placed = cuts.map((groups) => groups.map((g) => placeSegment(plan, g)));
  const rng = new Rng(2);
  const slots = plan.slotChannels.map((c) => kernels.aligned(kernels.planarSize(h, w, c)));
  const s = plan.stages[plan.stages.length - 1].node.shuffle;
  const n = Math.max(h * w * 3 * s * s, kernels.planarSize(h, w, plan.stages[plan.stages.length - 1].node.terms[0].cout));
  const src = io === 'u8' ? Uint8Array.from({ length: h * w * 3 }, () => rng.nextU32() & 255) : rng.fill(new Float32Array(h * w * 3), () => rng.next());
  const dst = io === 'u8' ? new Uint8Array(n) : new Float32Array(n);
  const frame = { x: 0, y: 0, w, h };
  const run = (i: number) => kernels.runPlaced(first[i], placed[i], slots, src, dst, w, frame, frame, 1, threads);
  // A first run each; then as many rounds as fit in about two seconds, 3 to 10: enough for a quiet moment on a
  // shared machine without making a big model's first frame wait long.
  const t0 = performance.now();
  cuts.forEach((_, i) => run(i));
  const rounds = Math.max(3, Math.min(10, Math.floor(2000 / (performance.now() - t0))));
  return fastestRuns(cuts.length, rounds, run);
}
