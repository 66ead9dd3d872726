// The search's stages, after the seed: (0) pretrain the plain supernet; (1) width-only search with the latency
// target halfway between the supernet's and the budget; (2) joint width and depth search at the budget; then
// derive the selected network and (3) fine-tune it without gates or latency term. Every stage runs through the
// generic training loop in its own folder, so an interrupted search resumes inside the stage it was in.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ops from '../engine/ops.js';
import type { GateWorth } from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';
import type { Model } from '../models/model.js';
import type { WdsrSpec } from '../models/wdsr.js';
import { CHECKPOINT, type BatchSource, loggedSeconds, type LoopOptions, runLoop, type Trainable } from '../train/loop.js';
import { loadCheckpoint, restoreState } from '../train/checkpoint.js';
import type { Recipe } from '../train/recipe.js';
import { trainModel } from '../train/trainer.js';
import { deriveMeasured, type OverBudget } from './derive.js';
import { type LatencyPredictor, latencyPenalty, predictedMs, rampedTarget, specMs } from './latency-loss.js';
import { type GateUse, Supernet } from './supernet.js';

export interface SearchConfig {
  supernet: WdsrSpec;
  /** The joint stage's latency target in the speed model's milliseconds: the budget, calibrated by run.ts
   *  (calibrate.ts) to what a whole compiled network measures on this device. */
  targetMs: number;
  steps: { pretrain: number; width: number; joint: number; finetune: number };
  batch: number;
  patch: number;
  /** Learning rate of the weights in every stage. */
  lr: number;
  /** Learning rate of the gates: the seed's 0.01 (width stage) and 0.004 (joint stage). */
  gateLr: { width: number; joint: number };
  /** Weight of the latency term (the seed's γ = 0.1). */
  gamma: number;
  /** Fraction of each gated stage over which its target moves from where the last stage left it to its
   *  own; 0 is the seed's fixed target, which every gate crosses at once (docs/search.md). */
  targetRamp: number;
  /** Weight (0..1) of the pull up when the prediction is below the target; 0 is the seed's one-sided penalty.
   *  Under L1 alone a trained channel's straight-through gradient is ~0 (scaling a channel is scaling its
   *  outgoing weights, which sit at a minimum), so the gates random-walk, and a one-sided penalty is a wall
   *  they drift away from: the real ×2 run's joint stage fell to 23 ms for a 33 ms budget (docs/search.md).
   *  Below 1 so the budget stays the harder limit. */
  belowTarget: number;
  /** Gates are clipped into this range after each step (none: the seed's unbounded gates). Every gate of a
   *  layer gets the same latency gradient, dead or alive, so unbounded dead gates sink far below 0.5 while the
   *  target falls and take hundreds of steps to come back once the network is under it. */
  gateRange?: readonly [number, number];
  /** Gradient of the latency to the width gates (rtsr) or not (the seed's release). */
  widthGradient: boolean;
  /** How the gates learn what a channel or block is worth from the loss: the seed's straight-through sum, ~0
   *  for a trained channel, leaves the latency term alone to decide, by cost only; 'taylor' (ops.GateWorth). */
  gateWorth: GateWorth;
  /** The gates' Adam uses one second moment for all gates (rtsr), so a gate moves in proportion to its
   *  gradient — what its channel costs against what it is worth — instead of one per gate (the seed), which
   *  moves every gate at the same speed. */
  sharedGateScale: boolean;
  /** The depth gates get their own Adam second moment in the joint stage instead of sharing the width gates'.
   *  With Taylor worth the live C gates' large worth signals dominate a shared one, and a dropped block's keep
   *  gate barely moves when the network falls under the target (docs/search.md). */
  depthOwnScale: boolean;
  seed: number;
  valEvery: number;
  checkpointEvery: number;
  /** How the fine-tune stage trains the derived network (train/recipe.ts); absent: L1, as the seed. */
  recipe?: Recipe;
}

export const STAGES = ['pretrain', 'width', 'joint', 'finetune'] as const;
export type Stage = (typeof STAGES)[number];

export interface SearchDeps {
  data: BatchSource;
  /** The fine-tune stage's batches, made as it starts (its recipe's patch sizes, a teacher's SR); default `data`. */
  finetuneData?: () => Promise<BatchSource>;
  validate?: (model: Model) => Promise<number>;
  /** Stops the search after a checkpoint when true (tests simulate a kill with it). */
  shouldStop?: (stage: Stage, step: number) => boolean;
  /** Called as a stage starts; for the fine-tune stage with the derived network and its predicted time. */
  onStage?: (stage: Stage, derived?: { spec: Model['spec']; predictedMs: number }) => void;
  /** The derived network measured where it will run, as a share of the budget (derive.ts); absent: predicted only. */
  overBudget?: OverBudget;
  quiet?: boolean;
}

export interface SearchResult {
  supernet: Supernet;
  /** Absent when the search was interrupted before fine-tuning finished. */
  model?: Model;
  supernetMs: number;
  /** The speed model's prediction for the derived network. */
  predictedMs: number;
  /** Channels turned off after the joint stage to meet the budget (trimToBudget). */
  trimmedChannels?: number;
  /** Skipped blocks and dead channels turned on after the joint stage where the budget left room (fillToBudget). */
  filledBlocks?: number;
  filledChannels?: number;
  /** The joint stage kept no block, and the one closest to kept came back, trimmed to fit (keepOneBlock). */
  keptOneBlock?: boolean;
  /** Set when the derived network has no block because none fits the target: the narrowest one-block network's
   *  predicted ms. */
  noBlockFitsMs?: number;
  /** The predicted-ms target the network was derived at: below the calibrated one where it measured over the budget. */
  derivedTargetMs?: number;
  interrupted: boolean;
  /** Training seconds of each stage, summed over every process that worked on it. */
  stageSeconds: Record<Stage, number>;
}

// Each stage's learning rate drops × 0.3 at 50 % and 90 % of its steps, as in the seed.
const SCHEDULE = { milestones: [0.5, 0.9], gamma: 0.3 };

/** Every tensor the gated stages change, by name: weights and gates alike (pretraining leaves gates as they are). */
export function supernetState(net: Supernet): Map<string, Tensor> {
  const state = new Map(net.model.params);
  state.set('gate.c', net.gates.c);
  net.gates.blocks.forEach((b, i) => {
    state.set(`gate.${i}.m1`, b.m1);
    state.set(`gate.${i}.m2`, b.m2);
    state.set(`gate.${i}.skip`, b.skip);
    state.set(`gate.${i}.keep`, b.keep);
  });
  return state;
}

export async function runSearch(cfg: SearchConfig, predictor: LatencyPredictor, outDir: string, deps: SearchDeps): Promise<SearchResult> {
  const net = Supernet.init(cfg.supernet, cfg.seed);
  const state = supernetState(net);
  const tSuper = specMs(net.spec, predictor);
  const weights = [...net.model.params.values()];
  const loop = (stage: Stage, task: Trainable, lr: number, steps: number) => {
    const opts: LoopOptions = { steps, lr, ...SCHEDULE, valEvery: cfg.valEvery, checkpointEvery: cfg.checkpointEvery };
    const dir = join(outDir, stage);
    // A finished stage is not run again: its last checkpoint already holds its result.
    return runLoop(task, opts, { options: cfg, subject: { stage, supernet: cfg.supernet } }, dir, {
      data: deps.data,
      validate: deps.validate && (() => deps.validate!(stage === 'pretrain' ? net.model : net.derive())),
      shouldStop: deps.shouldStop && ((s) => deps.shouldStop!(stage, s)),
      quiet: deps.quiet,
    }, existsSync(join(dir, CHECKPOINT)));
  };
  // A gated stage moves its target from `from` to `to` (cfg.targetRamp); the penalty's span is the seed's.
  const gated = (use: GateUse, from: number, to: number, steps: number): Trainable['loss'] => (x, hr, step) => {
    const l1 = ops.l1Loss(net.forward(x, use, cfg.gateWorth), hr);
    const t = predictedMs(net, predictor, { depth: use.depth, widthGradient: cfg.widthGradient });
    const target = rampedTarget(from, to, step, steps, cfg.targetRamp);
    const penalty = latencyPenalty(t, target, tSuper - to, cfg.gamma, cfg.belowTarget);
    return { loss: penalty ? ops.add(l1, penalty) : l1, terms: { l1: l1.data[0], predicted_ms: t.data[0], target_ms: target } };
  };
  const gateGroup = (name: string, params: Tensor[]) => ({ name, params, lrScale: 1, sharedScale: cfg.sharedGateScale, range: cfg.gateRange });
  const tHalf = (tSuper + cfg.targetMs) / 2;
  const seconds = () => Object.fromEntries(STAGES.map((s) => [s, loggedSeconds(join(outDir, s))])) as Record<Stage, number>;
  const stages: [Stage, () => Promise<{ interrupted: boolean }>][] = [
    ['pretrain', () => loop('pretrain', { state, groups: [{ name: 'weights', params: weights, lrScale: 1 }], loss: (x, hr) => ({ loss: ops.l1Loss(net.forward(x, { widths: false, depth: false }), hr) }) }, cfg.lr, cfg.steps.pretrain)],
    ['width', () => loop('width', {
      state,
      groups: [{ name: 'weights', params: weights, lrScale: cfg.lr / cfg.gateLr.width }, gateGroup('gates', net.widthGates())],
      loss: gated({ widths: true, depth: false }, tSuper, tHalf, cfg.steps.width),
    }, cfg.gateLr.width, cfg.steps.width)],
    ['joint', () => loop('joint', {
      state,
      groups: [
        { name: 'weights', params: weights, lrScale: cfg.lr / cfg.gateLr.joint },
        ...(cfg.depthOwnScale
          ? [gateGroup('gates', net.widthGates()), gateGroup('depth', net.depthGates())]
          : [gateGroup('gates', [...net.widthGates(), ...net.depthGates()])]),
      ],
      loss: gated({ widths: true, depth: true }, tHalf, cfg.targetMs, cfg.steps.joint),
    }, cfg.gateLr.joint, cfg.steps.joint)],
  ];
  for (const [stage, run] of stages) {
    const ck = join(outDir, stage, CHECKPOINT);
    if (existsSync(ck)) {
      const saved = loadCheckpoint(ck);
      if (saved.step >= cfg.steps[stage]) {
        restoreState(ck, saved.state, state);
        continue;
      }
    }
    deps.onStage?.(stage);
    if ((await run()).interrupted) return { supernet: net, supernetMs: tSuper, predictedMs: NaN, interrupted: true, stageSeconds: seconds() };
  }
  const resumed = existsSync(join(outDir, 'finetune', CHECKPOINT));
  const { model, predicted, trimmed, filled, keptOneBlock, noBlockFits, targetMs } = await deriveMeasured(net, state, predictor, cfg.targetMs, outDir, resumed, deps.overBudget);
  deps.onStage?.('finetune', { spec: model.spec, predictedMs: predicted });
  const ft = await trainModel(
    model,
    { steps: cfg.steps.finetune, lr: cfg.lr, ...SCHEDULE, valEvery: cfg.valEvery, checkpointEvery: cfg.checkpointEvery, batch: cfg.batch, patch: cfg.patch, seed: cfg.seed, recipe: cfg.recipe },
    join(outDir, 'finetune'),
    { data: (await deps.finetuneData?.()) ?? deps.data, validate: deps.validate, shouldStop: deps.shouldStop && ((s) => deps.shouldStop!('finetune', s)), quiet: deps.quiet },
    resumed,
  );
  return { supernet: net, model: ft.interrupted ? undefined : ft.model, supernetMs: tSuper, predictedMs: predicted, trimmedChannels: trimmed, filledBlocks: filled.blocks, filledChannels: filled.channels, keptOneBlock, noBlockFitsMs: noBlockFits, derivedTargetMs: targetMs, interrupted: ft.interrupted, stageSeconds: seconds() };
}
