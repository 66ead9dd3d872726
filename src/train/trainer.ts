// Training one model through the generic loop: its forward pass under the recipe's pixel loss (L1 without
// one), plus a distillation term when batches carry a teacher's SR, one Adam over all its parameters, and the
// recipe's weight average and training branches.
import * as ops from '../engine/ops.js';
import { Model } from '../models/model.js';
import { architecture, type ArchSpec, validateSpec } from '../models/registry.js';
import { withReparam } from '../models/reparam.js';
import { loadCheckpoint } from './checkpoint.js';
import { Ema } from './ema.js';
import { type LoopDeps, type LoopOptions, runLoop, type Trainable } from './loop.js';
import { LOSSES, lossAt, type Recipe } from './recipe.js';

export { CHECKPOINT, CURVE, DivergedError, LOG, type BatchSource } from './loop.js';

export interface TrainOptions extends LoopOptions {
  batch: number;
  /** LR patch side (until the recipe's `patches` say otherwise). */
  patch: number;
  seed: number;
  /** Absent: L1, no averaging, no branches (the `baseline` recipe). */
  recipe?: Recipe;
  /** Carried into checkpoints so `--resume` can rebuild the run (data folder, sets…); the loop never reads it. */
  run?: Record<string, unknown>;
}

export interface TrainDeps extends Omit<LoopDeps, 'validate'> {
  validate?: (model: Model) => Promise<number>;
}

export interface TrainResult {
  /** With a weight average, the averaged weights. */
  model: Model;
  step: number;
  interrupted: boolean;
  lastValPsnr: number | null;
  seconds: number;
}

/** The spec and options of the run whose checkpoint is at `path`. */
export function checkpointRun(path: string): { spec: ArchSpec; options: TrainOptions; step: number } {
  const ck = loadCheckpoint<TrainOptions>(path);
  return { spec: validateSpec(ck.subject, path), options: ck.options, step: ck.step };
}

export async function train(spec: ArchSpec, opts: TrainOptions, outDir: string, deps: TrainDeps, resume = false): Promise<TrainResult> {
  return trainModel(Model.init(spec, opts.seed), opts, outDir, deps, resume);
}

/** The spec a run with `recipe` trains when it starts from `spec`: its luminance body's, with its branches. */
export function trainingSpec(spec: ArchSpec, recipe: Recipe | undefined): ArchSpec {
  const body = recipe?.luma ? (architecture(spec).luma?.spec(spec) ?? spec) : spec;
  return recipe?.reparam ? withReparam(body, recipe.reparam) : body;
}

/** Trains `start` from its current weights (e.g. a network derived from a searched supernet). A recipe's
 *  luminance body is made first (Model.luma: a new function, from these weights), then its branches are added
 *  (Model.branched: the same function). */
export async function trainModel(start: Model, opts: TrainOptions, outDir: string, deps: TrainDeps, resume = false): Promise<TrainResult> {
  const recipe = opts.recipe;
  if (recipe?.reparam && start.spec.reparam && JSON.stringify(recipe.reparam) !== JSON.stringify(start.spec.reparam))
    throw new Error(`the network has training branches ${JSON.stringify(start.spec.reparam)}, recipe '${recipe.name}' others (${JSON.stringify(recipe.reparam)})`);
  const body = recipe?.luma ? start.luma() : start;
  const model = recipe?.reparam && !body.spec.reparam ? body.branched(recipe.reparam, opts.seed) : body;
  const ema = recipe?.ema ? new Ema(model.params, recipe.ema) : null;
  const result = ema ? new Model(model.spec, ema.params) : model;
  const task: Trainable = {
    state: new Map([...model.params, ...(ema?.state() ?? [])]),
    groups: [{ name: 'model', params: [...model.params.values()], lrScale: 1 }],
    loss: (x, hr, step, teacher) => {
      const rho = LOSSES[recipe ? lossAt(recipe, step, opts.steps) : 'l1'];
      const sr = model.forward(x);
      const pixel = rho(sr, hr);
      if (!teacher) return { loss: pixel };
      const distill = rho(sr, teacher);
      return { loss: ops.add(pixel, ops.affine(distill, recipe?.distill ?? 1, 0)), terms: { pixel: pixel.data[0], distill: distill.data[0] } };
    },
    afterStep: ema ? (t) => ema.update(t) : undefined,
  };
  const validate = deps.validate;
  const r = await runLoop(task, opts, { options: opts, subject: model.spec }, outDir, { ...deps, validate: validate && (() => validate(result)) }, resume);
  return { model: result, ...r };
}
