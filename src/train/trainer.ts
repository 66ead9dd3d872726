// Training one model: L1 loss on its forward pass, one Adam over all its parameters, through the generic loop.
import * as ops from '../engine/ops.js';
import { Model } from '../models/model.js';
import { type ArchSpec, validateSpec } from '../models/registry.js';
import { loadCheckpoint } from './checkpoint.js';
import { type LoopDeps, type LoopOptions, runLoop } from './loop.js';

export { CHECKPOINT, CURVE, DivergedError, LOG, type BatchSource } from './loop.js';

export interface TrainOptions extends LoopOptions {
  batch: number;
  /** LR patch side. */
  patch: number;
  seed: number;
  /** Carried into checkpoints so `--resume` can rebuild the run (data folder, sets…); the loop never reads it. */
  run?: Record<string, unknown>;
}

export interface TrainDeps extends Omit<LoopDeps, 'validate'> {
  validate?: (model: Model) => Promise<number>;
}

export interface TrainResult {
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

/** Trains `model` in place from its current weights (e.g. a network derived from a searched supernet). */
export async function trainModel(model: Model, opts: TrainOptions, outDir: string, deps: TrainDeps, resume = false): Promise<TrainResult> {
  const spec = model.spec;
  const task = {
    state: model.params,
    groups: [{ name: 'model', params: [...model.params.values()], lrScale: 1 }],
    loss: (x: Parameters<Model['forward']>[0], hr: typeof x) => ({ loss: ops.l1Loss(model.forward(x), hr) }),
  };
  const validate = deps.validate;
  const r = await runLoop(task, opts, { options: opts, subject: spec }, outDir, { ...deps, validate: validate && (() => validate(model)) }, resume);
  return { model, ...r };
}
