// Fitting the speed model to a profile with rtsr's own engine: each linear term set by Adam on the mean
// squared relative error (so a 2 ms head and a 100 ms block count alike), coefficients kept ≥ 0 by fitting
// their square roots — more width never predicts less time. The channel alignment is chosen by validation
// on a part of the fitted blocks; the held-out blocks are never seen here.
import { cosine } from '../engine/schedule.js';
import * as ops from '../engine/ops.js';
import { Adam } from '../engine/optim.js';
import { Tensor } from '../engine/tensor.js';
import { BLOCK_TERMS, blockMacs, type CTable, linearCombination, widthColumns, type TermSet } from './features.js';
import { quantile } from './measure.js';
import { profileSetup, type Profile } from './profile-file.js';
import { partKey, type BlockConfig, type Part } from './runner.js';
import { MODEL_FORMAT, MODEL_VERSION, SpeedModel } from './speed-model.js';

/** Alignments tried: none (e.g. code vectorised across pixels), register blocks of 2, 3, 6 or 12 output
 *  channels, SSE/NEON/WASM SIMD (4 floats), AVX (8), AVX-512 (16), and a 32-wide tile. */
export const ALIGN_CANDIDATES = [1, 2, 3, 4, 6, 8, 12, 16, 32] as const;

export interface FitOptions {
  /** Share of blocks held out for `speed-model eval`. */
  readonly holdout: number;
  readonly seed: number;
  /** Adam steps per fit. */
  readonly steps: number;
}

export const DEFAULT_FIT: FitOptions = { holdout: 0.2, seed: 1, steps: 2000 };

/** A deterministic share of keys (FNV-1a of seed and key): the same parts are held out at fit and at eval. */
export function inShare(key: string, share: number, seed: number): boolean {
  let h = 0x811c9dc5;
  for (const ch of `${seed}:${key}`) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193) >>> 0;
  return h / 4294967296 < share;
}

/** Predictions of fitted terms for a list of parts (no gradient). */
export function predictTerms(terms: TermSet, align: number, coef: readonly number[], parts: readonly Part[]): Float32Array {
  return linearCombination(terms.features(widthColumns(parts), align), coef.map((x) => new Tensor(Float32Array.of(x), [1]))).data;
}

/**
 * Non-negative coefficients (ms per unit of each feature) minimising mean((pred − y)² / y²). Features are
 * rescaled so that every one alone would predict y on average; all start with equal weight.
 */
export function fitTerms(terms: TermSet, align: number, data: readonly PartTime[], steps: number): number[] {
  if (data.length === 0) throw new Error(`fitTerms: no measurements to fit ${terms.names.join(', ')}`);
  const n = data.length;
  const features = terms.features(widthColumns(data.map((d) => d.part)), align);
  const invY = new Tensor(Float32Array.from(data, (d) => 1 / d.ms), [n]);
  const scales = features.map((f) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += f.data[i] * invY.data[i];
    return s > 0 ? n / (s * features.length) : 0;
  });
  const rel = features.map((f, j) => ops.mul(ops.affine(f, scales[j], 0), invY));
  const roots = features.map(() => new Tensor(Float32Array.of(1), [1], true));
  const ones = new Tensor(new Float32Array(n).fill(1), [n]);
  const adam = new Adam(roots);
  const lr = cosine(0.05, steps, 1e-4);
  for (let step = 0; step < steps; step++) {
    adam.zeroGrad();
    ops.mseLoss(linearCombination(rel, roots.map((r) => ops.mul(r, r))), ones).backward();
    adam.step(lr(step));
  }
  return roots.map((r, j) => r.data[0] ** 2 * scales[j]);
}

/** Mean absolute relative error of predictions against measurements. */
export function mape(pred: ArrayLike<number>, measured: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < measured.length; i++) acc += Math.abs(pred[i] / measured[i] - 1);
  return acc / measured.length;
}

export interface PartTime {
  readonly part: Part;
  readonly ms: number;
}

/** The profile's parts of one kind. */
export function timesOf(times: readonly PartTime[], kind: Part['kind']): PartTime[] {
  return times.filter((t) => t.part.kind === kind);
}

/** Blocks split into fitted and held out. */
export function splitBlocks(times: readonly PartTime[], holdout: number, seed: number): { fit: PartTime[]; heldOut: PartTime[] } {
  const blocks = timesOf(times, 'block');
  const held = (t: PartTime) => inShare(partKey(t.part), holdout, seed);
  return { fit: blocks.filter((t) => !held(t)), heldOut: blocks.filter(held) };
}

export interface NetworkTime {
  part: Extract<Part, { kind: 'model' }>;
  ms: number;
  /** The sum of its head, blocks and tail as measured one by one. */
  parts: number;
}

/** Every profiled network whose parts are all in the profile too, with the sum of their times. */
export function networkTimes(times: readonly PartTime[]): NetworkTime[] {
  const byKey = new Map(times.map((t) => [partKey(t.part), t.ms]));
  return timesOf(times, 'model').flatMap((t) => {
    const m = t.part as Extract<Part, { kind: 'model' }>;
    const parts: Part[] = [{ kind: 'head', c: m.c }, { kind: 'tail', c: m.c }, ...m.blocks.map((b): Part => ({ kind: 'block', c: m.c, ...b }))];
    const known = parts.map((p) => byKey.get(partKey(p))).filter((x): x is number => x !== undefined);
    if (known.length < parts.length) return [];
    return [{ part: m, ms: t.ms, parts: known.reduce((a, b) => a + b, 0) }];
  });
}

/**
 * How parts add up into a network: ms ≈ factor · parts + offset · blocks, least squares in relative error.
 * A network runs a few per cent faster than its parts (factor), and each block a little less than alone
 * (offset: the launch it no longer pays alone). Fewer than two networks: the median ratio alone.
 */
export function fitComposition(nets: readonly NetworkTime[]): { networkFactor: number; blockOffsetMs: number } {
  const ratio = median(nets.map((n) => n.ms / n.parts)) || 1;
  if (nets.length < 2) return { networkFactor: ratio, blockOffsetMs: 0 };
  let [aa, ab, bb, ay, by] = [0, 0, 0, 0, 0];
  for (const n of nets) {
    const [a, b] = [n.parts / n.ms, n.part.blocks.length / n.ms];
    [aa, ab, bb, ay, by] = [aa + a * a, ab + a * b, bb + b * b, ay + a, by + b];
  }
  const det = aa * bb - ab * ab;
  if (Math.abs(det) < 1e-12 * aa * bb) return { networkFactor: ratio, blockOffsetMs: 0 };
  return { networkFactor: (ay * bb - by * ab) / det, blockOffsetMs: (by * aa - ay * ab) / det };
}

export const median = (xs: readonly number[]) => (xs.length ? quantile([...xs].sort((a, b) => a - b), 0.5) : 0);

/** Fits a speed model to `profile` (read from `source`). */
export function fitSpeedModel(profile: Profile, source: string, o: FitOptions = DEFAULT_FIT): SpeedModel {
  const times = profile.measurements;
  const { fit } = splitBlocks(times, o.holdout, o.seed);
  if (fit.length < 2 * BLOCK_TERMS.names.length) throw new Error(`${source}: ${fit.length} blocks to fit ${BLOCK_TERMS.names.length} terms; profile more (--samples)`);
  // The alignment is chosen on a validation share of the fitted blocks, then all of them are fitted with it.
  const isVal = (t: PartTime) => inShare(partKey(t.part), 0.25, o.seed + 1);
  const [train, val] = [fit.filter((t) => !isVal(t)), fit.filter(isVal)];
  const alignValidation: Record<string, number> = {};
  for (const align of ALIGN_CANDIDATES) {
    const coef = fitTerms(BLOCK_TERMS, align, train, o.steps);
    alignValidation[align] = mape(predictTerms(BLOCK_TERMS, align, coef, val.map((v) => v.part)), val.map((v) => v.ms));
  }
  const align = ALIGN_CANDIDATES.reduce((best, a) => (alignValidation[a] < alignValidation[best] ? a : best));
  const heads = timesOf(times, 'head');
  const tails = timesOf(times, 'tail');
  const table = (ts: PartTime[], kind: string): CTable => {
    if (ts.length === 0) throw new Error(`${source}: no ${kind} measured; profile it (rtsr profile measures every C)`);
    return ts.map((t): [number, number] => [t.part.c, t.ms]).sort((a, b) => a[0] - b[0]);
  };
  // The FLOPs baseline, fitted on the same blocks and error: argmin_a Σ (a·F/y − 1)² = Σ(F/y) / Σ(F/y)².
  const ratios = fit.map((t) => {
    const b = t.part as BlockConfig;
    return blockMacs(b.c, b.m1, b.m2) / t.ms;
  });
  return new SpeedModel({
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    setup: profileSetup(profile),
    device: profile.device,
    profile: source,
    split: { holdout: o.holdout, seed: o.seed },
    align,
    alignValidation,
    block: fitTerms(BLOCK_TERMS, align, fit, o.steps),
    head: table(heads, 'head'),
    tail: table(tails, 'tail'),
    ...fitComposition(networkTimes(times)),
    flopsMsPerMac: ratios.reduce((a, r) => a + r, 0) / ratios.reduce((a, r) => a + r * r, 0),
  });
}
