// Training batches from real images: a PatchSampler whose random stream for step t is seeded by (seed, t),
// so the data order is a pure function of the step and resuming needs no sampler state. The patch side may
// change with the step (a recipe's larger patches late in training); a distilling sampler adds its teacher's SR.
import type { PatchSampler } from '../data/patches.js';
import { Tensor } from '../engine/tensor.js';
import type { Model } from '../models/model.js';
import { defaultTarget } from '../targets/registry.js';
import { Rng } from '../util/random.js';
import type { BatchSource } from './loop.js';
import { patchAt } from './recipe.js';
import { teacherOutputs } from './teacher.js';
import type { TrainOptions } from './trainer.js';

export function patchSource(sampler: PatchSampler, seed: number, batch: number, patch: number | ((step: number) => number), augment = true): BatchSource {
  const s = sampler.scale;
  return {
    batch(step) {
      const rng = new Rng(Uint32Array.from([seed >>> 0, step >>> 0, 0x5eed, 0x0b5e55ed]));
      // Warm the stream up: xoshiro seeded with structured words starts with correlated outputs.
      for (let i = 0; i < 8; i++) rng.nextU32();
      const p = typeof patch === 'number' ? patch : patch(step);
      const b = sampler.sample(rng, batch, p, augment);
      const hrShape = [batch, p * s, p * s, 3];
      return { lr: new Tensor(b.lr, [batch, p, p, 3]), hr: new Tensor(b.hr, hrShape), ...(b.teacher ? { teacher: new Tensor(b.teacher, hrShape) } : {}) };
    },
  };
}

/** Every offset of the scale's s × s grid but (0, 0): the LR at each of its other phases. */
export function gridShifts(scale: number): [number, number][] {
  return Array.from({ length: scale * scale - 1 }, (_, i) => [(i + 1) % scale, Math.floor((i + 1) / scale)]);
}

/** Batches as a run's recipe draws them (the images' shifted and downscaled copies, its patch sizes over the run, its
 *  augmentation), with the teacher's SR beside each HR patch when the run distils one. */
export async function recipeSource(sampler: PatchSampler, opts: Pick<TrainOptions, 'seed' | 'batch' | 'patch' | 'steps' | 'recipe'>, teacher: Model | undefined, log: (line: string) => void): Promise<BatchSource> {
  const recipe = opts.recipe;
  let from = sampler;
  if (recipe?.shifts) {
    const shifts = recipe.shifts === 'all' ? gridShifts(sampler.scale) : recipe.shifts;
    from = from.withShifts(shifts);
    log(`shifts ${shifts.map(([x, y]) => `(${x}, ${y})`).join(', ')}: ${from.pairs.length} training pairs from ${sampler.pairs.length} images`);
  }
  if (recipe?.downscales) {
    from = from.withDownscales(recipe.downscales);
    log(`downscales ${recipe.downscales.join(', ')}: ${from.pairs.length} training pairs from ${sampler.pairs.length} images`);
  }
  if (teacher) {
    const t0 = performance.now();
    from = from.withTargets(await teacherOutputs(teacher, from.pairs, await defaultTarget(), recipe?.ensemble));
    log(`teacher: its ${recipe?.ensemble ? 'self-ensembled ' : ''}SR of ${from.pairs.length} training images in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  return patchSource(from, opts.seed, opts.batch, recipe ? (step) => patchAt(recipe, opts.patch, step, opts.steps) : opts.patch, recipe?.augment ?? true);
}
