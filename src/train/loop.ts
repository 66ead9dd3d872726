// The training loop, for anything trainable: Adam per parameter group with a multi-step schedule, periodic
// validation, atomic checkpoints, a JSONL log and an SVG curve, Ctrl-C/SIGTERM → checkpoint and stop, NaN → stop
// with the last good checkpoint kept. Batches come from a source that is a pure function of the step, so a run
// stopped at any checkpoint and resumed ends with the same tensors as one that never stopped.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Adam } from '../engine/optim.js';
import { multiStep } from '../engine/schedule.js';
import type { Tensor } from '../engine/tensor.js';
import { removeStaleTemps, writeFileAtomic } from '../util/atomic.js';
import { svgPlot } from '../util/svg-plot.js';
import { type CheckpointMeta, loadCheckpoint, restoreState, saveCheckpoint } from './checkpoint.js';
import { Progress } from './progress.js';

export interface LoopOptions {
  steps: number;
  /** Base learning rate; each group scales it. */
  lr: number;
  /** Fractions of `steps` at which the learning rate is multiplied by `gamma`. */
  milestones: number[];
  gamma: number;
  /** Validate every this many steps (and at the end); 0: only at the end. */
  valEvery: number;
  checkpointEvery: number;
}

/** What the loop trains: its tensors by name (all saved in checkpoints), optimiser groups, and the loss. */
export interface Trainable {
  readonly state: Map<string, Tensor>;
  /** Each group gets its own Adam (with one second moment for the group when `sharedScale`); its learning
   *  rate is the scheduled one times `lrScale`; with `range` its values are clipped into [lo, hi] after each step. */
  readonly groups: readonly { name: string; params: Tensor[]; lrScale: number; sharedScale?: boolean; range?: readonly [number, number] }[];
  /** The loss of one batch at 0-based `step`; `terms` are logged alongside it (e.g. a latency penalty). Its
   *  intermediate tensors are released by the backward pass (Tensor.backward): keep numbers, not tensors. */
  loss(x: Tensor, hr: Tensor, step: number, teacher?: Tensor): { loss: Tensor; terms?: Record<string, number> };
  /** Called after every optimiser update, with the number of updates so far (e.g. to average the weights). */
  afterStep?(step: number): void;
}

/** Where batch `step` comes from: the same step always gives the same batch. */
export interface BatchSource {
  /** `teacher`: a teacher network's SR of the same patches, when the run distils one. */
  batch(step: number): { lr: Tensor; hr: Tensor; teacher?: Tensor };
}

export interface LoopDeps {
  data: BatchSource;
  /** Validation PSNR (dB) as the trainable is now. */
  validate?: () => Promise<number>;
  /** Called after each step; true stops the run after a checkpoint (tests use it to simulate a kill). */
  shouldStop?: (step: number) => boolean;
  quiet?: boolean;
}

export interface LoopResult {
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
  [term: string]: number | undefined;
}

export class DivergedError extends Error {}

/** Runs (or, with `resume` and a checkpoint in `outDir`, continues) `task` for `opts.steps` steps. */
export async function runLoop<O>(task: Trainable, opts: LoopOptions, meta: Omit<CheckpointMeta<O>, 'step'>, outDir: string, deps: LoopDeps, resume = false): Promise<LoopResult> {
  const ckptPath = join(outDir, CHECKPOINT);
  const adams = new Map(task.groups.map((g) => [g.name, new Adam(g.params, { sharedScale: g.sharedScale })]));
  let start = 0;
  let log: LogLine[] = [];
  let secondsBefore = 0;
  const acc = new Map<string, number>();
  let accN = 0;
  // Temp files of writes a killed run left behind (curve, log, checkpoint): nothing will ever rename them.
  if (existsSync(outDir)) removeStaleTemps(outDir);
  if (resume && existsSync(ckptPath)) {
    const ck = loadCheckpoint<O>(ckptPath);
    // A checkpoint of another network (or stage) would fail later on a tensor's size; say which run it is.
    if (!isDeepStrictEqual(ck.subject, JSON.parse(JSON.stringify(meta.subject))))
      throw new Error(`${ckptPath}: the checkpoint is of ${JSON.stringify(ck.subject)}, this run of ${JSON.stringify(meta.subject)}; resume it with what made it, or delete ${outDir} to start again`);
    restoreState(ckptPath, ck.state, task.state);
    for (const [name, adam] of adams) {
      const s = ck.adam.get(name);
      if (!s) throw new Error(`${ckptPath}: no optimiser state for group '${name}'`);
      adam.loadState(s);
    }
    start = ck.step;
    // Lines logged after the checkpoint belong to steps that will run again.
    log = readLog(join(outDir, LOG)).filter((l) => l.step <= start);
    secondsBefore = ck.seconds ?? log.at(-1)?.seconds ?? 0;
    for (const [k, v] of Object.entries(ck.window?.sums ?? {})) acc.set(k, v);
    accN = ck.window?.steps ?? 0;
  }
  const schedule = multiStep(opts.lr, opts.milestones.map((f) => Math.round(f * opts.steps)), opts.gamma);
  const t0 = performance.now();
  const elapsed = () => secondsBefore + (performance.now() - t0) / 1000;
  let step = start;
  const save = () => {
    const window = { steps: accN, sums: Object.fromEntries(acc) };
    saveCheckpoint(ckptPath, { ...meta, step, seconds: elapsed(), window }, task.state, new Map([...adams].map(([n, a]) => [n, a.saveState()])));
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
  try {
    while (step < opts.steps) {
      const lr = schedule(step);
      const { lr: x, hr, teacher } = deps.data.batch(step);
      for (const a of adams.values()) a.zeroGrad();
      const { loss, terms } = task.loss(x, hr, step, teacher);
      const value = loss.data[0];
      if (!Number.isFinite(value)) {
        const kept = existsSync(ckptPath) ? `the last good checkpoint (step ${loadCheckpoint(ckptPath).step}) is kept in ${ckptPath}` : 'no checkpoint was written yet';
        throw new DivergedError(`training diverged: the loss is ${value} at step ${step + 1}; ${kept}. Try a lower --lr.`);
      }
      // Nothing reads this step's intermediates after backward (terms are numbers): their memory goes back to
      // the backend for the next step's (Tensor.backward's release).
      loss.backward(undefined, { release: true });
      for (const g of task.groups) {
        adams.get(g.name)!.step(lr * g.lrScale);
        if (g.range) for (const p of g.params) clip(p.data, g.range);
      }
      step++;
      task.afterStep?.(step);
      for (const [k, v] of Object.entries({ loss: value, ...terms })) acc.set(k, (acc.get(k) ?? 0) + v);
      accN++;
      if (step % 100 === 0 || step === opts.steps) {
        log.push({ step, ...Object.fromEntries([...acc].map(([k, v]) => [k, v / accN])), lr, seconds: elapsed() });
        acc.clear();
        accN = 0;
      }
      if (deps.validate && ((opts.valEvery > 0 && step % opts.valEvery === 0) || step === opts.steps)) {
        lastVal = await deps.validate();
        log.push({ step, val_psnr: lastVal, seconds: elapsed() });
      }
      progress.update(step, value, lr, lastVal);
      const stop = signalled || (deps.shouldStop?.(step) ?? false);
      if (stop || step % opts.checkpointEvery === 0 || step === opts.steps) save();
      if (stop) return { step, interrupted: true, lastValPsnr: lastVal, seconds: elapsed() };
      // Let signal handlers run between steps.
      await new Promise((r) => setImmediate(r));
    }
    return { step, interrupted: false, lastValPsnr: lastVal, seconds: elapsed() };
  } finally {
    progress.done();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Training seconds logged so far in the run folder `outDir`, summed over every resumed process (0 before any). */
export function loggedSeconds(outDir: string): number {
  return readLog(join(outDir, LOG)).at(-1)?.seconds ?? 0;
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
  const lossSvg = svgPlot([{ label: 'training loss (mean over 100 steps)', points: loss, style: 'line', color: '#1f77b4' }], {
    title: 'Training loss',
    xLabel: 'step',
    yLabel: 'loss',
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

function clip(a: Float32Array, [lo, hi]: readonly [number, number]): void {
  for (let i = 0; i < a.length; i++) a[i] = Math.min(hi, Math.max(lo, a[i]));
}
