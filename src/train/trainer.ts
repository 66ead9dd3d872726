// The training loop: L1 loss, Adam with a multi-step schedule, periodic validation, atomic checkpoints, a
// JSONL log and an SVG curve. Batches come from a source that is a pure function of the step, so a run
// stopped at any checkpoint and resumed ends with the same parameters as one that never stopped.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ops from '../engine/ops.js';
import { Adam } from '../engine/optim.js';
import { multiStep } from '../engine/schedule.js';
import type { Tensor } from '../engine/tensor.js';
import { Model } from '../models/model.js';
import type { ArchSpec } from '../models/registry.js';
import { writeFileAtomic } from '../util/atomic.js';
import { svgPlot } from '../util/svg-plot.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { Progress } from './progress.js';

export interface TrainOptions {
  steps: number;
  batch: number;
  /** LR patch side. */
  patch: number;
  lr: number;
  /** Fractions of `steps` at which the learning rate is multiplied by `gamma`. */
  milestones: number[];
  gamma: number;
  seed: number;
  /** Validate every this many steps (and at the end); 0 never. */
  valEvery: number;
  checkpointEvery: number;
  /** Carried into checkpoints so `--resume` can rebuild the run (data folder, sets…); the loop never reads it. */
  run?: Record<string, unknown>;
}

/** Where batch `step` comes from: the same step always gives the same batch. */
export interface BatchSource {
  batch(step: number): { lr: Tensor; hr: Tensor };
}

export interface TrainDeps {
  data: BatchSource;
  /** Validation PSNR (dB) of the model as it is now. */
  validate?: (model: Model) => Promise<number>;
  /** Called after each step; returning true stops the run after a checkpoint (tests use it to simulate a kill). */
  shouldStop?: (step: number) => boolean;
  quiet?: boolean;
}

export interface TrainResult {
  model: Model;
  step: number;
  /** True when stopped early (signal or shouldStop); the checkpoint holds the state to resume from. */
  interrupted: boolean;
  lastValPsnr: number | null;
  seconds: number;
}

export const CHECKPOINT = 'checkpoint.rtsr';
export const LOG = 'log.jsonl';
export const CURVE = 'curve.svg';

interface LogLine {
  step: number;
  loss?: number;
  lr?: number;
  val_psnr?: number;
  seconds: number;
}

export class DivergedError extends Error {}

export async function train(spec: ArchSpec, opts: TrainOptions, outDir: string, deps: TrainDeps, resume = false): Promise<TrainResult> {
  const ckptPath = join(outDir, CHECKPOINT);
  let model: Model;
  let adam: Adam;
  let start = 0;
  let log: LogLine[] = [];
  if (resume && existsSync(ckptPath)) {
    const ck = loadCheckpoint<TrainOptions>(ckptPath);
    if (JSON.stringify(ck.spec) !== JSON.stringify(spec)) throw new Error(`${ckptPath}: checkpoint is for another architecture (${JSON.stringify(ck.spec)})`);
    model = new Model(ck.spec, ck.params);
    adam = new Adam([...model.params.values()]);
    adam.loadState(ck.adam);
    start = ck.step;
    // Lines logged after the checkpoint belong to steps that will run again.
    log = readLog(join(outDir, LOG)).filter((l) => l.step <= start);
  } else {
    model = Model.init(spec, opts.seed);
    adam = new Adam([...model.params.values()]);
  }
  const schedule = multiStep(opts.lr, opts.milestones.map((f) => Math.round(f * opts.steps)), opts.gamma);
  const secondsBefore = log.length ? log[log.length - 1].seconds : 0;
  const t0 = performance.now();
  const elapsed = () => secondsBefore + (performance.now() - t0) / 1000;
  const save = () => {
    saveCheckpoint(ckptPath, model, opts, adam.saveState());
    writeFileAtomic(join(outDir, LOG), log.map((l) => JSON.stringify(l)).join('\n') + '\n');
    writeFileAtomic(join(outDir, CURVE), curve(log));
  };
  let signalled = false;
  const onSignal = () => {
    signalled = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = new Progress(opts.steps, deps.quiet ?? false);
  let lastVal: number | null = [...log].reverse().find((l) => l.val_psnr !== undefined)?.val_psnr ?? null;
  let step = start;
  let lossAcc = 0;
  let lossN = 0;
  try {
    while (step < opts.steps) {
      const lr = schedule(step);
      const { lr: x, hr } = deps.data.batch(step);
      adam.zeroGrad();
      const loss = ops.l1Loss(model.forward(x), hr);
      const value = loss.data[0];
      if (!Number.isFinite(value)) {
        const kept = existsSync(ckptPath) ? `the last good checkpoint (step ${loadCheckpoint(ckptPath).step}) is kept in ${ckptPath}` : 'no checkpoint was written yet';
        throw new DivergedError(`training diverged: the loss is ${value} at step ${step + 1}; ${kept}. Try a lower --lr.`);
      }
      loss.backward();
      adam.step(lr);
      step++;
      lossAcc += value;
      lossN++;
      const logNow = step % 100 === 0 || step === opts.steps;
      if (logNow) {
        log.push({ step, loss: lossAcc / lossN, lr, seconds: elapsed() });
        lossAcc = 0;
        lossN = 0;
      }
      if (deps.validate && ((opts.valEvery > 0 && step % opts.valEvery === 0) || step === opts.steps)) {
        lastVal = await deps.validate(model);
        log.push({ step, val_psnr: lastVal, seconds: elapsed() });
      }
      progress.update(step, value, lr, lastVal);
      const stop = signalled || (deps.shouldStop?.(step) ?? false);
      if (stop || step % opts.checkpointEvery === 0 || step === opts.steps) save();
      if (stop) return { model, step, interrupted: true, lastValPsnr: lastVal, seconds: elapsed() };
      // Let signal handlers run between steps.
      await new Promise((r) => setImmediate(r));
    }
    return { model, step, interrupted: false, lastValPsnr: lastVal, seconds: elapsed() };
  } finally {
    progress.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function readLog(path: string): LogLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LogLine);
}

function curve(log: LogLine[]): string {
  const loss = log.filter((l) => l.loss !== undefined).map((l): [number, number] => [l.step, l.loss!]);
  const val = log.filter((l) => l.val_psnr !== undefined).map((l): [number, number] => [l.step, l.val_psnr!]);
  const lossSvg = svgPlot([{ label: 'train L1 (mean over 100 steps)', points: loss, style: 'line', color: '#1f77b4' }], {
    title: 'Training loss',
    xLabel: 'step',
    yLabel: 'L1',
    logY: true,
    height: 300,
  });
  const valSvg = svgPlot([{ label: 'validation PSNR', points: val, style: 'points', color: '#d62728' }], {
    title: 'Validation PSNR (Y, dB)',
    xLabel: 'step',
    yLabel: 'dB',
    height: 300,
  });
  // Two charts stacked in one file.
  const inner = (svg: string, y: number) => svg.replace('<svg ', `<svg y="${y}" `);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="720" height="600">\n${inner(lossSvg, 0)}${inner(valSvg, 300)}</svg>\n`;
}
