// Which parts a profile measures (planParts): block widths and networks of the search space, where every integer
// width is allowed, not only multiples of a vector width (the compiler's alignment steps are what the speed model
// has to learn), but none below the gates' minimum of 8 channels, which no search can produce. Node-free: the
// profiling page plans the same parts as `rtsr profile`.
import { uniformWdsr } from '../models/wdsr.js';
import { Rng } from '../util/random.js';
import { type BlockConfig, type Part, partKey } from './runner.js';

/** The search space: MIN_WIDTH ≤ C ≤ 32, M1 ≤ 6C (the seed's expansion), M2 ≤ C, every width ≥ MIN_WIDTH (the
 *  seed keeps the 8 largest gates of a layer when fewer pass). */
export const MAX_C = 32;
export const EXPANSION = 6;
export const MIN_WIDTH = 8;
/** Every residual width C of the search space. */
export const SEARCH_CS: readonly number[] = Array.from({ length: MAX_C - MIN_WIDTH + 1 }, (_, k) => MIN_WIDTH + k);

/** An integer in [MIN_WIDTH, hi]: half the draws uniform, half log-uniform, so that small widths are well covered. */
function width(rng: Rng, hi: number): number {
  const lo = MIN_WIDTH;
  const u = rng.next() < 0.5 ? rng.uniform(lo, hi + 1) : Math.exp(rng.uniform(Math.log(lo), Math.log(hi + 1)));
  return Math.min(hi, Math.floor(u));
}

/**
 * Block configuration number i of the stream for `seed`. C is stratified: each run of 25 consecutive samples
 * visits every C in 8..32 once, in a shuffled order. Sample i depends only on (seed, i), so a larger --samples
 * extends a profile instead of replacing it.
 */
export function sampleConfig(seed: number, i: number): BlockConfig {
  const round = Math.floor(i / SEARCH_CS.length);
  const rngPerm = new Rng(seed * 7919 + round);
  const cs = [...SEARCH_CS];
  for (let k = cs.length - 1; k > 0; k--) {
    const j = rngPerm.int(k + 1);
    [cs[k], cs[j]] = [cs[j], cs[k]];
  }
  const c = cs[i % cs.length];
  const rng = new Rng(seed * 104729 + i + 1);
  return { c, m1: width(rng, EXPANSION * c), m2: width(rng, c) };
}

/**
 * Whole networks measured to find how parts add up into a network (and to check whole-model predictions): the
 * seed's supernet and smaller uniform ones, plus random networks of the search space, like a search's results.
 */
export function plannedModels(seed: number): Extract<Part, { kind: 'model' }>[] {
  // The scale does not enter the blocks' widths.
  const uniform = (n: number, c: number) => ({ kind: 'model' as const, c, blocks: uniformWdsr(2, n, c).blocks });
  return [uniform(16, 24), uniform(8, 32), uniform(4, 16), uniform(2, 8), ...randomArchitectures(6, seed + 31)];
}

/** `n` random networks of the search space as a search would derive them: C in [8, 32], 1–16 blocks, every
 *  width at least MIN_WIDTH. For checking whole-model predictions. */
export function randomArchitectures(n: number, seed: number): Extract<Part, { kind: 'model' }>[] {
  const rng = new Rng(seed + 977);
  const between = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
  return Array.from({ length: n }, () => {
    const c = between(MIN_WIDTH, MAX_C);
    const blocks = Array.from({ length: between(1, 16) }, () => ({ m1: between(MIN_WIDTH, EXPANSION * c), m2: between(MIN_WIDTH, c) }));
    return { kind: 'model' as const, c, blocks };
  });
}

/**
 * Everything a profile measures, in order: head and tail for every C, the planned models' blocks and the
 * models themselves (how parts add up into a network), then the sampled blocks. The order only grows at the end when
 * --samples grows, so an extended profile keeps what it has.
 */
export function planParts(samples: number, seed: number): Part[] {
  const models = plannedModels(seed);
  const parts: Part[] = [
    ...SEARCH_CS.map((c): Part => ({ kind: 'head', c })),
    ...SEARCH_CS.map((c): Part => ({ kind: 'tail', c })),
    ...models.flatMap((m) => m.blocks.map((b): Part => ({ kind: 'block', c: m.c, ...b }))),
    ...models,
    ...Array.from({ length: samples }, (_, i): Part => ({ kind: 'block', ...sampleConfig(seed, i) })),
  ];
  const keys = new Set<string>();
  return parts.filter((p) => !keys.has(partKey(p)) && keys.add(partKey(p)));
}
