// Which block widths and networks a profile measures. Every integer width of the search space is allowed, not
// only multiples of a vector width: the compiler's alignment steps are what the speed model has to learn.
import { uniformWdsr } from '../models/wdsr.js';
import { Rng } from '../util/random.js';
import type { BlockConfig, Part } from './runner.js';

/** The search space: C ≤ 32, M1 ≤ 6C (the seed's expansion), M2 ≤ C; every width ≥ 1. */
export const MAX_C = 32;
export const EXPANSION = 6;

/** An integer in [1, hi]: half the draws uniform, half log-uniform, so that small widths are well covered. */
function width(rng: Rng, hi: number): number {
  const u = rng.next() < 0.5 ? rng.uniform(1, hi + 1) : Math.exp(rng.uniform(0, Math.log(hi + 1)));
  return Math.min(hi, Math.floor(u));
}

/**
 * Block configuration number i of the stream for `seed`. C is stratified: each run of 32 consecutive samples
 * visits every C in 1..32 once, in a shuffled order. Sample i depends only on (seed, i), so a larger --samples
 * extends a profile instead of replacing it.
 */
export function sampleConfig(seed: number, i: number): BlockConfig {
  const round = Math.floor(i / MAX_C);
  const rngPerm = new Rng(seed * 7919 + round);
  const cs = Array.from({ length: MAX_C }, (_, k) => k + 1);
  for (let k = cs.length - 1; k > 0; k--) {
    const j = rngPerm.int(k + 1);
    [cs[k], cs[j]] = [cs[j], cs[k]];
  }
  const c = cs[i % MAX_C];
  const rng = new Rng(seed * 104729 + i + 1);
  return { c, m1: width(rng, EXPANSION * c), m2: width(rng, c) };
}

/**
 * Whole networks measured to find the per-model fixed cost (and to check whole-model predictions): the seed's
 * supernet and smaller uniform ones, plus two with random per-block widths, like a search's result.
 */
export function plannedModels(seed: number): Extract<Part, { kind: 'model' }>[] {
  // The scale does not enter the blocks' widths.
  const uniform = (n: number, c: number) => ({ kind: 'model' as const, c, blocks: uniformWdsr(2, n, c).blocks });
  const rng = new Rng(seed + 31);
  const random = (n: number, c: number) => ({
    kind: 'model' as const,
    c,
    blocks: Array.from({ length: n }, () => ({ m1: width(rng, EXPANSION * c), m2: width(rng, c) })),
  });
  return [uniform(16, 24), uniform(8, 32), uniform(4, 16), uniform(2, 8), random(8, 24), random(6, 13)];
}

/** `n` random networks of the search space as a search would derive them: C in [8, 32], 1–16 blocks, each
 *  width at least 8 (the gates' minimum) where the layer allows it. For checking whole-model predictions. */
export function randomArchitectures(n: number, seed: number): Extract<Part, { kind: 'model' }>[] {
  const rng = new Rng(seed + 977);
  const between = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
  return Array.from({ length: n }, () => {
    const c = between(8, MAX_C);
    const blocks = Array.from({ length: between(1, 16) }, () => ({ m1: between(8, EXPANSION * c), m2: between(8, c) }));
    return { kind: 'model' as const, c, blocks };
  });
}
