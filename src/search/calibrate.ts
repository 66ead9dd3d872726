// The speed model predicts a network as the sum of its blocks' and fixed parts' profiled times; a whole
// compiled network runs 7–14 % slower than that on the machine it was profiled on (docs/search.md), and on
// another CPU (--quick with the nearest shipped model) by any factor. Before the gated stages the search
// therefore times networks of its own space, sized near 0.7, 1 and 1.4 × the budget — several, so that one
// reading does not decide the scale alone — fits measured = scale × predicted, and aims the speed model at
// budget / scale. Saved in the output folder, so a resumed search keeps the target its stages started with.
import { existsSync, readFileSync } from 'node:fs';
import type { Steadiness } from '../latency/busy.js';
import type { WdsrSpec } from '../models/wdsr.js';
import { writeFileAtomic } from '../util/atomic.js';
import { type LatencyPredictor, specMs } from './latency-loss.js';
import { MIN_CHANNELS } from './supernet.js';

export interface ReferenceTiming {
  spec: WdsrSpec;
  predicted_ms: number;
  measured_ms: number;
}

export interface Calibration {
  budget_ms: number;
  /** The networks timed: uniform blocks within the supernet's widths, predicted closest to 0.7, 1, 1.4 × the budget. */
  references: ReferenceTiming[];
  /** Measured ≈ scale × predicted: least squares in relative error over the references. */
  scale: number;
  /** What the search aims the speed model at: budget_ms / scale. */
  target_ms: number;
  /** How steady the machine was while the references were timed; absent where nothing was timed here. */
  machine?: Steadiness;
}

/** What `calibrate` needs timed: each network's milliseconds here, and how steady the machine was. */
export type TimeReferences = (specs: WdsrSpec[]) => Promise<{ ms: number[]; steadiness?: Steadiness }>;

/** Budget fractions the references are sized at. */
export const REFERENCE_SIZES = [0.7, 1, 1.4];

/** The seed's uniform block shape (M1 = 6C, M2 = ⌊0.84C⌋) clipped to the supernet's widths, at the depth and C
 *  (at least MIN_CHANNELS) whose prediction is closest to the budget. */
export function referenceSpec(supernet: WdsrSpec, budgetMs: number, p: LatencyPredictor): WdsrSpec {
  const m1Max = Math.max(...supernet.blocks.map((b) => b.m1));
  const m2Max = Math.max(...supernet.blocks.map((b) => b.m2));
  let best: { spec: WdsrSpec; miss: number } | null = null;
  for (let depth = 1; depth <= supernet.blocks.length; depth++) {
    for (let c = MIN_CHANNELS; c <= supernet.channels; c++) {
      const block = { m1: Math.min(6 * c, m1Max), m2: Math.min(Math.max(MIN_CHANNELS, Math.floor(0.84 * c)), m2Max) };
      const spec: WdsrSpec = { arch: 'wdsr-b', scale: supernet.scale, channels: c, blocks: Array.from({ length: depth }, () => ({ ...block })) };
      const miss = Math.abs(specMs(spec, p) - budgetMs);
      if (!best || miss < best.miss) best = { spec, miss };
    }
  }
  return best!.spec;
}

/** The references: the uniform networks predicted closest to each of REFERENCE_SIZES × the budget, without repeats. */
export function referenceSpecs(supernet: WdsrSpec, budgetMs: number, p: LatencyPredictor): WdsrSpec[] {
  const specs = REFERENCE_SIZES.map((f) => referenceSpec(supernet, f * budgetMs, p));
  return specs.filter((s, i) => specs.findIndex((t) => JSON.stringify(t) === JSON.stringify(s)) === i);
}

/** The k minimising Σ ((measured − k · predicted) / measured)²: Σ r / Σ r², r = predicted / measured. */
export function fitScale(refs: readonly ReferenceTiming[]): number {
  const r = refs.map((x) => x.predicted_ms / x.measured_ms);
  return r.reduce((a, b) => a + b, 0) / r.reduce((a, b) => a + b * b, 0);
}

/** A calibration.json of before several references (one `reference`), read as one of them. */
function upgrade(saved: Calibration & { reference?: WdsrSpec; predicted_ms?: number; measured_ms?: number }): Calibration {
  if (saved.references || !saved.reference) return saved;
  const { reference, predicted_ms, measured_ms, ...rest } = saved;
  return { ...rest, references: [{ spec: reference, predicted_ms: predicted_ms!, measured_ms: measured_ms! }], scale: measured_ms! / predicted_ms! };
}

/** The saved calibration for this budget, else the references timed now. */
export async function calibrate(path: string, supernet: WdsrSpec, budgetMs: number, p: LatencyPredictor, time: TimeReferences, log: (line: string) => void): Promise<Calibration> {
  if (existsSync(path)) {
    let saved: Calibration | null = null;
    try {
      saved = upgrade(JSON.parse(readFileSync(path, 'utf8')));
    } catch (err) {
      log(`${path}: unreadable (${(err as Error).message}); timing the references again`);
    }
    if (saved && saved.budget_ms !== budgetMs) log(`${path} was made for a ${saved.budget_ms} ms budget, not ${budgetMs}: timing the references again`);
    else if (saved && saved.target_ms > 0 && saved.references?.length) return saved;
    else if (saved) log(`${path}: no target or references in it; timing the references again`);
  }
  const specs = referenceSpecs(supernet, budgetMs, p);
  const { ms, steadiness } = await time(specs);
  const references = specs.map((spec, i) => ({ spec, predicted_ms: specMs(spec, p), measured_ms: ms[i] }));
  const bad = references.find((r) => !(r.measured_ms > 0));
  if (bad) throw new Error(`calibration: timing ${JSON.stringify(bad.spec)} gave ${bad.measured_ms} ms`);
  const scale = fitScale(references);
  const cal: Calibration = { budget_ms: budgetMs, references, scale, target_ms: budgetMs / scale, ...(steadiness && { machine: steadiness }) };
  writeFileAtomic(path, JSON.stringify(cal, null, 2) + '\n');
  return cal;
}

/** Throws, before any training, when even the narrowest network of the space — C = MIN_CHANNELS and every
 *  block skipped — is predicted over the calibrated target: the search could only end over the budget. */
export function assertReachable(cal: Calibration, p: LatencyPredictor): void {
  const smallest: WdsrSpec = { ...cal.references[0].spec, channels: MIN_CHANNELS, blocks: [] };
  const ms = specMs(smallest, p);
  if (ms > cal.target_ms) {
    throw new Error(
      `a ${cal.budget_ms} ms budget is out of reach here: the narrowest network of the search space (C ${MIN_CHANNELS}, no blocks) is predicted at ` +
        `${ms.toFixed(2)} ms, and the budget became ${cal.target_ms.toFixed(2)} ms predicted (the references ran ${cal.scale.toFixed(2)}× their predicted times here); ` +
        'raise --budget-ms or lower --input (or, if the machine was busy when the references were timed, delete calibration.json in the output folder)',
    );
  }
}

/** Throws, before any training, when the whole space fits the budget: the supernet itself is predicted under the
 *  calibrated target, so the search has nothing to choose and could only hand back the supernet. */
export function assertBelowSupernet(cal: Calibration, supernet: WdsrSpec, p: LatencyPredictor): void {
  const ms = specMs(supernet, p);
  if (ms > cal.target_ms) return;
  const measured = ms * cal.scale;
  throw new Error(
    `a ${cal.budget_ms} ms budget exceeds the whole search space: its largest network, the supernet (${supernet.blocks.length} blocks, C ${supernet.channels}), ` +
      `is predicted at ${ms.toFixed(1)} ms (≈ ${measured.toFixed(1)} ms measured here), under the ${cal.target_ms.toFixed(1)} ms predicted the budget became; ` +
      `there is nothing to search: lower --budget-ms under ≈ ${measured.toFixed(1)} ms, or train that network directly (rtsr train --arch '${JSON.stringify(supernet)}')`,
  );
}
