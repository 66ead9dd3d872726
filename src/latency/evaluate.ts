// The speed model's evidence: on blocks held out of the fit, the share of predictions within ±10 % and ±5 %
// of the measured time and the mean absolute percentage error, beside a FLOPs-proportional baseline fitted on
// the same blocks; whole-model predictions against the profiled models; a predicted-vs-measured plot.
import { Tensor } from '../engine/tensor.js';
import { svgPlot } from '../util/svg-plot.js';
import { blockMacs } from './features.js';
import { fitComposition, mape, networkTimes, splitBlocks } from './fit.js';
import { quantile } from './measure.js';
import type { Profile } from './profile-file.js';
import type { BlockConfig } from './runner.js';
import type { SpeedModel } from './speed-model.js';

export interface Accuracy {
  /** Shares in 0..1. */
  readonly within10: number;
  readonly within5: number;
  readonly mape: number;
}

/** Milliseconds per GMAC over the profile's measured blocks: how far from flat in MACs the target is. */
export interface MsPerGmac {
  readonly min: number;
  readonly p10: number;
  readonly median: number;
  readonly p90: number;
  readonly max: number;
}

export interface Evaluation extends Accuracy {
  readonly flops_baseline: Accuracy;
  readonly ms_per_gmac: MsPerGmac;
}

export interface ModelCheck {
  readonly c: number;
  readonly blocks: number;
  readonly measured: number;
  readonly predicted: number;
}

export interface EvaluationReport {
  readonly heldOut: number;
  readonly result: Evaluation;
  /** Per profiled network: measured and predicted ms, the composition fitted on the other networks only. */
  readonly models: ModelCheck[];
  readonly points: { measured: number; predicted: number; flops: number }[];
}

export function accuracy(pred: ArrayLike<number>, measured: ArrayLike<number>): Accuracy {
  const n = measured.length;
  let w10 = 0;
  let w5 = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.abs(pred[i] / measured[i] - 1);
    if (e <= 0.1) w10++;
    if (e <= 0.05) w5++;
  }
  return { within10: w10 / n, within5: w5 / n, mape: mape(pred, measured) };
}

/** Evaluates on the blocks of `profile` that the model's split held out (all blocks of a profile it never saw
 *  are still split the same way, so the numbers stay comparable). */
export function evaluate(model: SpeedModel, profile: Profile): EvaluationReport {
  const times = profile.measurements;
  const { heldOut } = splitBlocks(times, model.data.split.holdout, model.data.split.seed);
  if (heldOut.length === 0) throw new Error('no held-out blocks in this profile: profile more blocks (--samples)');
  const configs = heldOut.map((t) => t.part as BlockConfig);
  const measured = heldOut.map((t) => t.ms);
  const predicted = model.blocksMs(configs);
  const flops = configs.map((b) => model.data.flopsMsPerMac * blockMacs(b.c, b.m1, b.m2));
  const nets = networkTimes(times);
  const models = nets.map((r, i) => {
    const others = fitComposition(nets.filter((_, j) => j !== i));
    const n = r.part.blocks.length;
    const c = new Tensor(Float32Array.of(r.part.c), [1]);
    const parts = model.headMs(c).data[0] + model.tailMs(c).data[0] + model.blocksMs(r.part.blocks.map((b) => ({ c: r.part.c, ...b }))).reduce((a, b) => a + b, 0);
    return { c: r.part.c, blocks: n, measured: r.ms, predicted: others.networkFactor * parts + others.blockOffsetMs * n };
  });
  return {
    heldOut: heldOut.length,
    result: { ...accuracy(predicted, measured), flops_baseline: accuracy(flops, measured), ms_per_gmac: msPerGmac(profile) },
    models,
    points: measured.map((m, i) => ({ measured: m, predicted: predicted[i], flops: flops[i] })),
  };
}

/** Every measured block's time per GMAC of its own (a flat target has one figure for every shape). */
export function msPerGmac(profile: Profile): MsPerGmac {
  const pixels = profile.input.w * profile.input.h;
  const v = profile.measurements
    .filter((m) => m.part.kind === 'block')
    .map((m) => {
      const b = m.part as BlockConfig;
      return m.ms / ((blockMacs(b.c, b.m1, b.m2) * pixels) / 1e9);
    })
    .sort((a, b) => a - b);
  return { min: v[0], p10: quantile(v, 0.1), median: quantile(v, 0.5), p90: quantile(v, 0.9), max: v[v.length - 1] };
}

export function evaluationSvg(r: EvaluationReport, title: string): string {
  const hi = Math.max(...r.points.flatMap((p) => [p.measured, p.predicted, p.flops]));
  return svgPlot(
    [
      { label: 'measured = predicted', points: [[0, 0], [hi, hi]], style: 'line', color: '#999' },
      { label: `FLOPs-proportional (MAPE ${(100 * r.result.flops_baseline.mape).toFixed(1)} %)`, points: r.points.map((p) => [p.measured, p.flops]), style: 'points', color: '#d62728' },
      { label: `speed model (MAPE ${(100 * r.result.mape).toFixed(1)} %)`, points: r.points.map((p) => [p.measured, p.predicted]), style: 'points', color: '#1f77b4' },
    ],
    { title, xLabel: 'measured block latency (ms)', yLabel: 'predicted (ms)' },
  );
}
